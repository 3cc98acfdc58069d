"""Process-version use cases: validate and deploy packages. Never commits."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import func, select

from app.accounts.models import User
from app.cases import workflow as bridge
from app.db import db
from app.processes.models import ProcessVersion
from engine import ProcessPackage, ValidationIssue

#: The service card's file name inside a package.
CARD_FILE = "service.json"


class InvalidPackage(Exception):
    """A package failed validation; `issues` lists every problem."""

    def __init__(self, key: str, issues: list[ValidationIssue]) -> None:
        super().__init__(f"{key}: {len(issues)} problem(s)")
        self.key = key
        self.issues = issues


@dataclass(frozen=True)
class Deployment:
    version: ProcessVersion
    created: bool


def validate_packages(keys: list[str] | None = None) -> dict[str, list[ValidationIssue]]:
    """Every problem of every package (or of the named ones), keyed by package."""
    library = bridge.library()
    return {
        key: bridge.validate(library.load_package(key)) for key in keys or library.package_keys()
    }


def latest_version(process_key: str) -> ProcessVersion | None:
    """The newest deployed version of a process: where new cases start."""
    return db.session.scalar(
        select(ProcessVersion)
        .where(ProcessVersion.process_key == process_key)
        .order_by(ProcessVersion.number.desc())
        .limit(1)
    )


def deploy_package(package: ProcessPackage, *, actor: User | None = None) -> Deployment:
    """Store a validated package as a new immutable version; unchanged content is a no-op.

    :raises InvalidPackage: when validation finds any problem.
    """
    issues = bridge.validate(package)
    if issues:
        raise InvalidPackage(package.key, issues)
    existing = db.session.scalar(
        select(ProcessVersion).where(ProcessVersion.content_hash == package.content_hash)
    )
    if existing is not None:
        return Deployment(existing, created=False)
    number = (
        db.session.scalar(
            select(func.max(ProcessVersion.number)).where(ProcessVersion.process_key == package.key)
        )
        or 0
    ) + 1
    card = json.loads(package.files[CARD_FILE]) if CARD_FILE in package.files else {}
    version = ProcessVersion(
        process_key=package.key,
        number=number,
        content_hash=package.content_hash,
        files={name: data.decode("utf-8") for name, data in package.files.items()},
        forms={key: data.decode("utf-8") for key, data in package.forms.items()},
        card=card,
        deployed_by_id=actor.id if actor else None,
    )
    db.session.add(version)
    db.session.flush()
    return Deployment(version, created=True)


def deploy_all(keys: list[str] | None = None, *, actor: User | None = None) -> list[Deployment]:
    """Validate every package first, then deploy them all (none when any is invalid).

    :raises InvalidPackage: for the first package with problems (after checking all).
    """
    library = bridge.library()
    packages = [library.load_package(key) for key in keys or library.package_keys()]
    for package in packages:
        issues = bridge.validate(package)
        if issues:
            raise InvalidPackage(package.key, issues)
    return [deploy_package(package, actor=actor) for package in packages]
