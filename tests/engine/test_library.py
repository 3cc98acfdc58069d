"""Process packages: reading, hashing versions (forms included), compiling, the service card."""

from __future__ import annotations

import pytest
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser import VALIDATOR, SpiffBpmnParser

from engine import PackageError, ProcessLibrary, ProcessPackage, compile_package, content_hash

from .support import FIXTURES_DIR, end, process_files, sequence, start, user_task


def test_library_lists_and_reads_packages(library: ProcessLibrary) -> None:
    package = library.load_package("sample_permit")

    assert "sample_permit" in library.package_keys()
    assert sorted(package.files) == [
        "fee.dmn",
        "process.bpmn",
        "service.json",
        "templates/certificate.html",
    ]
    assert sorted(package.forms) == sorted(package.form_keys())
    assert package.key == "sample_permit"
    assert package.card is not None
    assert package.card.service_id == "13042652100"
    assert package.card.legal_deadline.value == 15
    assert package.card.legal_deadline.unit == "working_days"
    assert package.card.notifications["payment_requested"].fa.startswith("مبلغ")
    assert package.card.extra["service_type"] == "G2C"


def test_content_hash_covers_files_and_forms_and_ignores_order(library: ProcessLibrary) -> None:
    package = library.load_package("sample_permit")
    reordered = ProcessPackage.from_files(
        "sample_permit",
        dict(reversed(list(package.files.items()))),
        dict(reversed(list(package.forms.items()))),
    )
    edited_form = dict(package.forms)
    edited_form["sample_permit/review"] += b" "

    assert reordered.content_hash == package.content_hash
    assert library.load_package("sample_permit").content_hash == package.content_hash
    assert (
        ProcessPackage.from_files("sample_permit", package.files, edited_form).content_hash
        != package.content_hash
    )
    assert content_hash(package.files) != package.content_hash
    assert content_hash({"a": b"bc"}) != content_hash({"ab": b"c"})


def test_forms_can_be_supplied_by_the_caller(library: ProcessLibrary) -> None:
    package = library.load_package("sample_permit", forms={"sample_permit/review": b"{}"})

    assert dict(package.forms) == {"sample_permit/review": b"{}"}


def test_missing_package_is_an_error(library: ProcessLibrary) -> None:
    with pytest.raises(PackageError, match="no process package"):
        library.read_files("no_such_process")
    with pytest.raises(PackageError):
        library.read_files("../processes")


def test_compile_is_cached_by_content(library: ProcessLibrary) -> None:
    files = library.read_files("sample_permit")

    first = compile_package(files, key="sample_permit")
    again = compile_package(dict(files), key="sample_permit")
    changed = compile_package(
        {**files, "process.bpmn": files["process.bpmn"].replace("مهلت".encode(), "موعد".encode())},
        key="sample_permit",
    )

    assert again is first
    assert changed is not first
    assert changed.spec_hash != first.spec_hash


def test_a_fresh_parser_per_compile_avoids_duplicate_process_ids(library: ProcessLibrary) -> None:
    """Control (spiffworkflow.md §1.1): re-adding a process to one parser fails."""
    data = library.read_files("sample_permit")["process.bpmn"]
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_str(data, filename="process.bpmn")

    with pytest.raises(ValidationException, match="Duplicate process ID"):
        parser.add_bpmn_str(data, filename="process.bpmn")


def test_xml_with_an_encoding_declaration_is_compiled_from_bytes(library: ProcessLibrary) -> None:
    data = library.read_files("sample_permit")["process.bpmn"]
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')

    with pytest.raises(ValueError, match="encoding declaration"):
        SpiffBpmnParser(validator=VALIDATOR).add_bpmn_str(data.decode("utf-8"))
    assert library.compile("sample_permit").key == "sample_permit"


def test_compile_errors_name_the_file(library: ProcessLibrary) -> None:
    with pytest.raises(PackageError, match=r"process\.bpmn"):
        compile_package({"process.bpmn": (FIXTURES_DIR / "invalid_xsd.bpmn").read_bytes()})
    with pytest.raises(PackageError, match="exactly one executable process"):
        compile_package(
            process_files("", key="a")
            | {
                "process.bpmn": b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"/>'
            }
        )
    with pytest.raises(PackageError, match=r"no process\.bpmn"):
        compile_package({"fee.dmn": b""})


def test_compile_finds_the_process_without_a_key() -> None:
    compiled = compile_package(
        process_files(sequence(start(), user_task("ask"), end()), key="probe_two")
    )

    assert compiled.key == "probe_two"
    assert [step.id for step in compiled.steps()] == ["ask"]
    assert compiled.card is None
