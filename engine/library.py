"""Process packages: reading processes/<key>/, hashing versions, compiling specs.

A package is ``processes/<key>/`` with ``process.bpmn`` (process id == key), optional
``*.dmn``, ``service.json`` (the service card) and optional ``templates/``. Its version is
the sha256 of its files plus the form files its user tasks reference.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser import VALIDATOR, SpiffBpmnParser

from engine.bpmn_xml import (
    HUMAN_TASK_TAGS,
    ProcessStep,
    flow_nodes,
    is_bpmn,
    ordered_steps,
    parse_xml,
    processes,
    properties,
)
from engine.card import ServiceCard, ServiceCardError, parse_service_card
from engine.errors import PackageError

PROCESS_FILE = "process.bpmn"
CARD_FILE = "service.json"
FORM_KEY_PROPERTY = "formKey"

_COMPILE_CACHE_SIZE = 32


@dataclass(frozen=True)
class ProcessPackage:
    """The bytes of one process version: package files plus the forms it references."""

    key: str
    files: Mapping[str, bytes]
    forms: Mapping[str, bytes]
    content_hash: str
    card: ServiceCard | None

    @classmethod
    def from_files(
        cls, key: str, files: Mapping[str, bytes], forms: Mapping[str, bytes]
    ) -> ProcessPackage:
        """Build a package from bytes already in hand (e.g. a stored version)."""
        return cls(key, dict(files), dict(forms), content_hash(files, forms), _card_or_none(files))

    def form_keys(self) -> list[str]:
        """Return the form keys referenced by the package's human tasks."""
        return referenced_form_keys(self.files)


def content_hash(files: Mapping[str, bytes], forms: Mapping[str, bytes] = {}) -> str:
    """Return the sha256 of package files and form files (names and bytes, sorted)."""
    digest = hashlib.sha256()
    for kind, entries in (("file", files), ("form", forms)):
        for name in sorted(entries):
            data = entries[name]
            encoded = name.encode("utf-8")
            # Length prefixes keep (name, bytes) boundaries unambiguous.
            digest.update(f"{kind}:{len(encoded)}:{len(data)}:".encode())
            digest.update(encoded)
            digest.update(data)
    return digest.hexdigest()


def referenced_form_keys(files: Mapping[str, bytes]) -> list[str]:
    """Return the formKey values of user and manual tasks, in document order, unique."""
    keys: list[str] = []
    for name, data in sorted(files.items()):
        if not name.endswith(".bpmn"):
            continue
        try:
            root = parse_xml(data, name)
        except PackageError:
            continue
        for node in flow_nodes(root):
            if is_bpmn(node, *HUMAN_TASK_TAGS):
                key = properties(node).get(FORM_KEY_PROPERTY)
                if key and key not in keys:
                    keys.append(key)
    return keys


def _safe_relative(name: str) -> bool:
    path = PurePosixPath(name)
    return bool(name) and not path.is_absolute() and ".." not in path.parts


class ProcessLibrary:
    """The process packages under a directory, with the forms directory they reference."""

    def __init__(self, processes_dir: str | Path, forms_dir: str | Path | None = None) -> None:
        self.processes_dir = Path(processes_dir)
        self.forms_dir = Path(forms_dir) if forms_dir is not None else None

    def package_keys(self) -> list[str]:
        """Return the keys of all packages (folders holding a process.bpmn), sorted."""
        if not self.processes_dir.is_dir():
            return []
        return sorted(p.name for p in self.processes_dir.iterdir() if (p / PROCESS_FILE).is_file())

    def read_files(self, key: str) -> dict[str, bytes]:
        """Read every file of a package, keyed by its path relative to the package."""
        folder = self.processes_dir / key
        if not _safe_relative(key) or not (folder / PROCESS_FILE).is_file():
            raise PackageError(f"no process package {key!r} in {self.processes_dir}")
        files: dict[str, bytes] = {}
        for path in sorted(folder.rglob("*")):
            relative = path.relative_to(folder)
            if path.is_file() and not any(
                part.startswith(".") or part == "__pycache__" for part in relative.parts
            ):
                files[relative.as_posix()] = path.read_bytes()
        return files

    def form_path(self, form_key: str) -> Path | None:
        """Return where a form key's definition lives, or None without a forms dir."""
        if self.forms_dir is None or not _safe_relative(form_key):
            return None
        return self.forms_dir / f"{form_key}.json"

    def form_exists(self, form_key: str) -> bool:
        """Return True when the forms directory holds this form key."""
        path = self.form_path(form_key)
        return path is not None and path.is_file()

    def load_package(self, key: str, forms: Mapping[str, bytes] | None = None) -> ProcessPackage:
        """Read a package and its referenced forms (from ``forms`` or the forms dir)."""
        files = self.read_files(key)
        if forms is None:
            found: dict[str, bytes] = {}
            for form_key in referenced_form_keys(files):
                path = self.form_path(form_key)
                if path is not None and path.is_file():
                    found[form_key] = path.read_bytes()
            forms = found
        return ProcessPackage.from_files(key, files, forms)

    def compile(self, key: str) -> CompiledProcess:
        """Load and compile a package."""
        return compile_package(self.read_files(key), key=key)


def _card_or_none(files: Mapping[str, bytes]) -> ServiceCard | None:
    if CARD_FILE not in files:
        return None
    try:
        return parse_service_card(files[CARD_FILE])
    except ServiceCardError:
        return None  # validate_package reports why


class CompiledProcess:
    """A parsed, validated spec ready to run; shared by every case of this version."""

    def __init__(
        self,
        key: str,
        spec_hash: str,
        files: Mapping[str, bytes],
        spec: Any,
        subprocess_specs: Any,
    ) -> None:
        self.key = key
        self.spec_hash = spec_hash
        self.bpmn_xml = files[PROCESS_FILE].decode("utf-8")
        self.card: ServiceCard | None = _card_or_none(files)
        self._files = dict(files)
        self._spec = spec
        self._subprocess_specs = subprocess_specs
        root = parse_xml(files[PROCESS_FILE], PROCESS_FILE)
        process = next(p for p in processes(root) if p.get("id") == key)
        self._steps = ordered_steps(process)
        self.element_names: Mapping[str, str] = {
            node.get("id"): node.get("name") or node.get("id") for node in flow_nodes(root)
        }

    def steps(self) -> list[ProcessStep]:
        """Return the process's tasks in flow order (id, name, lane, type)."""
        return list(self._steps)

    def __repr__(self) -> str:
        return f"<CompiledProcess {self.key} {self.spec_hash[:12]}>"


_cache: OrderedDict[str, CompiledProcess] = OrderedDict()
_cache_lock = threading.Lock()


def compile_package(files: Mapping[str, bytes], *, key: str | None = None) -> CompiledProcess:
    """Parse a package's BPMN and DMN bytes into a CompiledProcess (LRU-cached by content).

    :raises PackageError: naming the file and element when parsing fails.
    """
    spec_hash = content_hash(files)
    with _cache_lock:
        cached = _cache.get(spec_hash)
        if cached is not None and (key is None or cached.key == key):
            _cache.move_to_end(spec_hash)
            return cached
    compiled = _compile_uncached(files, key, spec_hash)
    with _cache_lock:
        _cache[spec_hash] = compiled
        while len(_cache) > _COMPILE_CACHE_SIZE:
            _cache.popitem(last=False)
    return compiled


def _compile_uncached(
    files: Mapping[str, bytes], key: str | None, spec_hash: str
) -> CompiledProcess:
    if PROCESS_FILE not in files:
        raise PackageError(f"package has no {PROCESS_FILE}")
    if key is None:
        key = _executable_process_id(files[PROCESS_FILE])
    # A fresh parser per compile: re-adding a file to a parser raises "Duplicate process ID".
    parser = SpiffBpmnParser(validator=VALIDATOR)
    try:
        for name in sorted(files):
            if name.endswith(".bpmn"):
                parser.add_bpmn_str(files[name], filename=name)
            elif name.endswith(".dmn"):
                parser.add_dmn_str(files[name], filename=name)
        spec = parser.get_spec(key)
        subprocess_specs = parser.get_subprocess_specs(key)
    except ValidationException as exc:
        raise PackageError(_describe_validation_error(exc)) from None
    except SpiffWorkflowException as exc:
        raise PackageError(f"{PROCESS_FILE}: {exc}") from None
    return CompiledProcess(key, spec_hash, files, spec, subprocess_specs)


def _executable_process_id(data: bytes) -> str:
    root = parse_xml(data, PROCESS_FILE)
    ids = [p.get("id") for p in processes(root) if p.get("isExecutable", "true") != "false"]
    if len(ids) != 1:
        raise PackageError(f"{PROCESS_FILE}: expected exactly one executable process, found {ids}")
    return str(ids[0])


def _describe_validation_error(exc: ValidationException) -> str:
    file_name = getattr(exc, "file_name", None) or PROCESS_FILE
    element = getattr(exc, "id", None)
    line = getattr(exc, "line_number", None)
    where = f"{file_name}" + (f":{line}" if line else "") + (f" [{element}]" if element else "")
    return f"{where}: {exc.args[0] if exc.args else exc}"
