"""Fixtures for the engine tests: no database, no Flask."""

from __future__ import annotations

import pytest

from engine import CompiledProcess, ProcessLibrary, Runtime

from .support import FORMS_DIR, PROCESSES_DIR, FakeConnectors


@pytest.fixture
def connectors() -> FakeConnectors:
    return FakeConnectors()


@pytest.fixture
def runtime(connectors: FakeConnectors) -> Runtime:
    return Runtime(connectors=connectors.registry)


@pytest.fixture(scope="session")
def library() -> ProcessLibrary:
    return ProcessLibrary(PROCESSES_DIR, FORMS_DIR)


@pytest.fixture(scope="session")
def sample(library: ProcessLibrary) -> CompiledProcess:
    return library.compile("sample_permit")
