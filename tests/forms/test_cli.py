"""`flask forms validate` on the real forms, on good fixtures and on broken ones."""

from __future__ import annotations

import json

from flask import Flask

from tests.forms.conftest import FIXTURES


def run(app: Flask, *args: str) -> tuple[int, list[str]]:
    result = app.test_cli_runner().invoke(args=["forms", "validate", *args])
    return result.exit_code, result.output.splitlines()


def test_the_project_forms_are_valid(app: Flask) -> None:
    code, lines = run(app)
    assert code == 0, "\n".join(lines)
    assert lines[-1].endswith("no problems.")


def test_good_fixtures_pass(app: Flask) -> None:
    good = FIXTURES / "good"
    code, lines = run(
        app, "--forms-dir", str(good / "forms"), "--processes-dir", str(good / "processes")
    )
    assert code == 0, "\n".join(lines)
    assert lines == ["2 form definitions checked: no problems."]


def test_broken_fixtures_report_every_problem_one_line_each(app: Flask) -> None:
    broken = FIXTURES / "broken"
    code, lines = run(
        app, "--forms-dir", str(broken / "forms"), "--processes-dir", str(broken / "processes")
    )
    assert code == 1
    problems = "forms/broken/problems.json"
    expected = [
        "forms/broken/not_json.json: -: not valid JSON",
        'forms/broken/orphan.json: -: no process uses this form: no formKey "broken/orphan"',
        f"{problems}: extra: unknown key 'extra'",
        f"{problems}: title: the title needs both fa and en texts",
        f"{problems}: schema/properties/size/type: not valid JSON Schema",
        f"{problems}: ghost_ui: the ui schema names a field that is not in the schema",
        f"{problems}: ghost: required names a field that is not in the schema",
        f"{problems}: schema: an `if` that tests properties must list them in `required` too",
        f"{problems}: phantom: `then` names a field that is not in the schema",
        f"{problems}: code: unknown format 'zip-code'",
        f"{problems}: colour: unknown widget 'dropdown'",
        f"{problems}: when: the label (ui:label) needs both fa and en texts",
        f"{problems}: Bad-Name: field names are snake_case",
        f"{problems}: doc: a file field needs x-accept",
        f"{problems}: doc: a file field needs x-maxSize",
        f"{problems}: count: unknown ui key 'ui:tooltip'",
        f"{problems}: owners: x-sum goes on a repeatable group",
        f"{problems}: nowhere: page 1 names a field that is not in the schema",
        f"{problems}: ui:pages/2: the page title needs both fa and en texts",
        f"{problems}: code: the field is on pages 1 and 2",
        f"{problems}: when: the field is on no page",
        f"{problems}: nothing: messages names a field that is not in the schema",
        f"{problems}: code: the message for 'format' needs both fa and en texts",
        "processes/broken/process.bpmn: formKey broken/missing_file: no form file forms/broken/missing_file.json",
    ]
    for start in expected:
        assert any(line.startswith(start) for line in lines), start
    assert all(line.count(": ") >= 2 for line in lines)


def test_a_choice_without_labels_in_both_languages_is_reported(app: Flask, tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "forms" / "p").mkdir(parents=True)
    (tmp_path / "processes" / "p").mkdir(parents=True)
    (tmp_path / "processes" / "p" / "p.bpmn").write_text(
        '<x name="formKey" value="p/f"/>', encoding="utf-8"
    )
    (tmp_path / "forms" / "p" / "f.json").write_text(
        '{"title": {"fa": "ف", "en": "F"}, "schema": {"type": "object", "properties": {"c": '
        '{"type": "string", "enum": ["a", "b"]}}}, "ui": {"c": {"ui:label": {"fa": "ج", "en": "C"},'
        ' "ui:enumLabels": {"a": {"fa": "الف", "en": "A"}, "b": {"fa": "ب"}}}}}',
        encoding="utf-8",
    )
    code, lines = run(
        app, "--forms-dir", str(tmp_path / "forms"), "--processes-dir", str(tmp_path / "processes")
    )
    assert code == 1
    assert lines == ["forms/p/f.json: c: option 'b' needs a label in ui:enumLabels with fa and en"]


def test_a_prefill_must_name_a_citizens_fact_on_a_text_question(app: Flask, tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "forms" / "p").mkdir(parents=True)
    (tmp_path / "processes" / "p").mkdir(parents=True)
    (tmp_path / "processes" / "p" / "p.bpmn").write_text(
        '<x name="formKey" value="p/f"/>', encoding="utf-8"
    )
    label = {"ui:label": {"fa": "ب", "en": "L"}}
    form = {
        "title": {"fa": "ف", "en": "F"},
        "schema": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "code": {"type": "string"},
                "count": {"type": "integer"},
                "owner": {"type": "object", "properties": {"mobile": {"type": "string"}}},
            },
        },
        "ui": {
            "name": {**label, "ui:prefill": "full_name"},
            "code": {**label, "ui:prefill": "salary"},
            "count": {**label, "ui:prefill": "national_code"},
            "owner": {**label, "mobile": {**label, "ui:prefill": "mobile"}},
        },
    }
    (tmp_path / "forms" / "p" / "f.json").write_text(json.dumps(form), encoding="utf-8")
    code, lines = run(
        app, "--forms-dir", str(tmp_path / "forms"), "--processes-dir", str(tmp_path / "processes")
    )
    assert code == 1
    assert sorted(lines) == [
        "forms/p/f.json: code: ui:prefill 'salary' is not a citizen's fact "
        "(known: email, full_name, mobile, national_code, postal_code)",
        "forms/p/f.json: count: ui:prefill fills text questions only",
        "forms/p/f.json: owner.mobile: ui:prefill goes on a question of the form, not inside a group",
    ]
