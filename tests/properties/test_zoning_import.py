"""`flask properties import-zoning`: good rows recorded, bad rows named by line, re-import a no-op."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.accounts.services import ensure_district
from app.db import db
from app.properties.models import Property
from app.properties.zoning import BadRow, put_on_record

HEADER = (
    "plate,renewal_code,district,zone,land_use,max_floors,max_density_pct,"
    "max_coverage_pct,setback_m,street_width_m\n"
)
ROWS = [
    "3/125/4217,9-2-15-37-1-0-0,09,R-2,residential,4,180,60,3,12\n",  # line 2
    "۳/۸۸/۱۹۰۲,,۰۹,C-1,commercial,۶,۲۴۰,۷۰,۰,۲۰٫۵\n",  # line 3: Persian digits
    "3/abc/1,,,R-1,residential,2,100,60,3,8\n",  # line 4: bad plate
    "5/310/77,,,R-1,residential,two,100,60,3,8\n",  # line 5: bad number
    ",9-9-9-9-9-9-9,,R-1,residential,2,100,60,3,8\n",  # line 6: unknown renewal code
    "5/310/77,,,R-1,farm,2,100,60,3,8\n",  # line 7: unknown land use
    "5/310/77,,,R-1,residential,2,100,160,3,8\n",  # line 8: coverage over 100 %
    ",9-2-15-37-1-0-0,,R-3,residential,5,200,60,3,12\n",  # line 9: by renewal code
]


def _write(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "zoning.csv"
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path


def _run(app: Flask, path: Path) -> Any:
    return app.test_cli_runner().invoke(args=["properties", "import-zoning", str(path)])


def test_import_records_good_rows_and_names_bad_ones_by_line(app: Flask, tmp_path: Path) -> None:
    district = ensure_district("09", "منطقه ۹", "District 9")
    path = _write(tmp_path, ROWS)

    result = _run(app, path)

    assert result.exit_code == 1
    assert "2 new, 1 updated, 0 unchanged, 5 bad rows" in result.stdout
    errors = result.stderr.splitlines()
    assert [line.split(":")[0] for line in errors] == [
        "line 4",
        "line 5",
        "line 6",
        "line 7",
        "line 8",
    ]
    assert "plate" in errors[0]
    assert "max_floors must be a whole number" in errors[1]
    assert "no property has the renewal code 9-9-9-9-9-9-9" in errors[2]
    assert "land_use" in errors[3]
    assert "max_coverage_pct" in errors[4]
    parcel = db.session.scalar(select(Property).where(Property.key == "3/125/4217"))
    assert parcel is not None
    assert parcel.renewal_code == "9-2-15-37-1-0-0"
    assert parcel.district_id == district.id
    # line 9 named the same parcel by its renewal code and replaced its plan data.
    assert parcel.zoning == {
        "zone": "R-3",
        "land_use": "residential",
        "max_floors": 5,
        "max_density_pct": 200,
        "max_coverage_pct": 60,
        "setback_m": 3.0,
        "street_width_m": 12.0,
    }
    other = db.session.scalar(select(Property).where(Property.key == "3/88/1902"))
    assert other is not None
    assert other.zoning is not None
    assert (other.zoning["max_floors"], other.zoning["street_width_m"]) == (6, 20.5)
    assert db.session.scalar(select(Property).where(Property.key == "5/310/77")) is None


def test_importing_the_same_file_again_changes_nothing(app: Flask, tmp_path: Path) -> None:
    ensure_district("09", "منطقه ۹", "District 9")
    path = _write(tmp_path, ROWS[:2])
    assert _run(app, path).exit_code == 0
    before = {p.key: dict(p.zoning or {}) for p in db.session.scalars(select(Property))}

    again = _run(app, path)

    assert again.exit_code == 0
    assert "0 new, 0 updated, 2 unchanged, 0 bad rows" in again.stdout
    assert {p.key: p.zoning for p in db.session.scalars(select(Property))} == before


def test_a_file_without_the_key_columns_is_refused(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "zoning.csv"
    path.write_text("parcel,zone\n3/125/4217,R-2\n", encoding="utf-8")
    result = _run(app, path)
    assert result.exit_code == 1
    assert "plate or a renewal_code column" in result.stderr


def test_put_on_record_is_the_demos_entry_point(app: Flask) -> None:
    prop = put_on_record("3/125/4217", {"zone": "R-2", "max_floors": 4})
    again = put_on_record("3/125/4217", {"zone": "R-2", "max_floors": 4})
    assert prop.id == again.id
    assert prop.zoning == {"zone": "R-2", "max_floors": 4}
    with pytest.raises(BadRow, match="max_floors"):
        put_on_record("3/125/4217", {"max_floors": "many"})


def test_a_renewal_code_of_another_plate_is_a_bad_row(app: Flask, tmp_path: Path) -> None:
    rows = [
        "3/125/4217,9-2-15-37-1-0-0,,R-2,residential,4,180,60,3,12\n",
        "3/88/1902,9-2-15-37-1-0-0,,R-2,residential,4,180,60,3,12\n",
    ]
    result = _run(app, _write(tmp_path, rows))
    assert result.stderr.splitlines() == [
        "line 3: renewal_code 9-2-15-37-1-0-0 belongs to plate 3/125/4217"
    ]
    assert db.session.scalar(select(Property).where(Property.key == "3/88/1902")) is None
