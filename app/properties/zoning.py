"""The parcels' detailed-plan data (طرح تفصیلی) on record, imported from a CSV file.

Zoning rules are data: the municipality's GIS export is loaded here, and the procedures read
it through `property_record` (their DMN tables decide what it means). One row per parcel:

    plate,renewal_code,district,zone,land_use,max_floors,max_density_pct,max_coverage_pct,setback_m,street_width_m

`plate` is the plate key ("3/125/4217", or "3/125" without a sub-plate) or, when empty,
`renewal_code` names a parcel already in the register. A row for a plate the register does
not hold yet registers the parcel. Importing the same file again changes nothing.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.accounts.models import District
from app.db import db
from app.persian.messages import InvalidValue, message
from app.persian.property import RegistryPlate, check_renewal_code
from app.persian.text import normalize_identifier, normalize_text, to_ascii_digits
from app.properties import services
from app.properties.models import LAND_USES, ZONING_FIELDS, Property

COLUMNS = ("plate", "renewal_code", "district", *ZONING_FIELDS)
#: Upper bounds that catch a shifted column or a typo (a percentage of 6000).
_LIMITS = {
    "max_floors": 200,
    "max_density_pct": 2000,
    "max_coverage_pct": 100,
    "setback_m": 100,
    "street_width_m": 200,
}


class BadRow(ValueError):
    """A row that cannot be imported; the message says why."""


@dataclass
class ImportReport:
    """What an import did; `errors` names bad rows by their line in the file."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def parse_plate_key(text: str) -> RegistryPlate:
    """A plate key "section/main/sub" (or "section/main") typed in any digits.

    :raises BadRow: when it is not a valid plate.
    """
    parts = normalize_identifier(text, keep_hyphens=True).split("/")
    if len(parts) not in (2, 3):
        raise BadRow("plate must be section/main/sub, like 3/125/4217")
    try:
        return RegistryPlate.parse(parts[0], parts[1], parts[2] if len(parts) == 3 else None)
    except InvalidValue as error:
        raise BadRow(f"plate: {message(error.key, 'en')}") from None


def parse_zoning(row: Mapping[str, str]) -> dict[str, Any]:
    """The zoning fields of a row in their types; empty cells are left out.

    :raises BadRow: naming the first field that is not valid.
    """
    zoning: dict[str, Any] = {}
    for name, kind in ZONING_FIELDS.items():
        raw = normalize_text(to_ascii_digits(row.get(name) or "")).replace("٫", ".")
        if not raw:
            continue
        if kind is str:
            zoning[name] = raw
            continue
        try:
            value = int(raw) if kind is int else float(raw)
        except ValueError:
            expected = "a whole number" if kind is int else "a number"
            raise BadRow(f"{name} must be {expected}, not {raw!r}") from None
        if not 0 <= value <= _LIMITS[name]:
            raise BadRow(f"{name} must be between 0 and {_LIMITS[name]}, not {raw}")
        zoning[name] = value
    if zoning.get("land_use") and zoning["land_use"] not in LAND_USES:
        raise BadRow(f"land_use must be one of {', '.join(LAND_USES)}, not {zoning['land_use']!r}")
    if not zoning:
        raise BadRow("the row has no zoning data")
    return zoning


def _district(code: str) -> District | None:
    code = normalize_identifier(code)
    if not code:
        return None
    district = db.session.scalar(select(District).where(District.code == code.zfill(2)))
    if district is None:
        raise BadRow(f"no district has the code {code!r}")
    return district


def record_zoning(prop: Property, zoning: dict[str, Any], district: District | None = None) -> bool:
    """Put the parcel's zoning on record; return whether anything changed."""
    changed = prop.zoning != zoning
    if changed:
        prop.zoning = dict(zoning)
    if district is not None and prop.district_id is None:
        prop.district_id = district.id
        changed = True
    return changed


def import_row(row: Mapping[str, str]) -> str:
    """Import one row; return "created", "updated" or "unchanged".

    :raises BadRow: when the row cannot be imported (nothing is changed then).
    """
    zoning = parse_zoning(row)
    district = _district(row.get("district") or "")
    plate_text = (row.get("plate") or "").strip()
    renewal_text = (row.get("renewal_code") or "").strip()
    renewal = None
    if renewal_text:
        check = check_renewal_code(renewal_text)
        if not check.ok:
            raise BadRow(f"renewal_code: {message(check.error or '', 'en')}")
        renewal = check.value
    if plate_text:
        plate = parse_plate_key(plate_text)
        prop = services.find_by_key(plate.key)
        created = prop is None
        holder = services.find_by_renewal_code(renewal) if renewal else None
        if holder is not None and holder.key != plate.key:
            raise BadRow(f"renewal_code {renewal} belongs to plate {holder.key}")
        prop = services.get_or_create(plate)
        services.fill_blanks(prop, renewal_code=renewal)
    elif renewal:
        prop = services.find_by_renewal_code(renewal)
        if prop is None:
            raise BadRow(f"no property has the renewal code {renewal}; give its plate")
        created = False
    else:
        raise BadRow("give the plate or the renewal code")
    changed = record_zoning(prop, zoning, district)
    return "created" if created else "updated" if changed else "unchanged"


def import_rows(rows: Iterable[tuple[int, Mapping[str, str]]]) -> ImportReport:
    """Import numbered rows; a bad row is reported with its line number and skipped."""
    report = ImportReport()
    for line, row in rows:
        try:
            with db.session.begin_nested():
                outcome = import_row(row)
        except BadRow as error:
            report.errors.append((line, str(error)))
            continue
        setattr(report, outcome, getattr(report, outcome) + 1)
    return report


def import_csv(path: Path) -> ImportReport:
    """Import a UTF-8 CSV file (header row first; see the module's docstring for columns).

    :raises BadRow: when the header lacks the columns every row needs.
    """
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        header = set(reader.fieldnames or ())
        if not {"plate", "renewal_code"} & header:
            raise BadRow("the header needs a plate or a renewal_code column")
        unknown = sorted(header - set(COLUMNS))
        if unknown:
            raise BadRow(f"unknown columns {unknown}; expected {', '.join(COLUMNS)}")
        return import_rows((reader.line_num, row) for row in reader)


def put_on_record(
    plate_key: str, zoning: Mapping[str, Any], *, district: District | None = None
) -> Property:
    """Register the parcel if needed and record its zoning (demo data and tests use this).

    :raises BadRow: when the plate or a zoning value is not valid.
    """
    prop = services.get_or_create(parse_plate_key(plate_key))
    record_zoning(prop, parse_zoning({k: str(v) for k, v in zoning.items()}), district)
    return prop
