"""What every import kind shares: the report it returns, the length check, the per-tenant lock."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from imports import ImportIssue
from imports.report import error


@dataclass
class ImportReport:
    """What an import found and did (or, on a dry run, would do).

    `created`/`updated` count people for a roster (households separately), else features/rows.
    `skipped` counts rows read but not imported. The id lists feed the audit log, not the client.
    """

    kind: str
    dry_run: bool
    committed: bool = False
    total_rows: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    issues: list[ImportIssue] = field(default_factory=list)
    approximate_locations: list[dict[str, Any]] = field(default_factory=list)
    households_created: int | None = None  # roster only
    encoding: str | None = None
    written_ids: list[uuid.UUID] = field(default_factory=list)
    referenced_ids: list[uuid.UUID] = field(default_factory=list)  # existing people named in issues

    @property
    def ok(self) -> bool:
        return not any(i.severity == "error" for i in self.issues)

    def error_rows(self) -> set[int]:
        return {i.row for i in self.issues if i.severity == "error" and i.row is not None}

    def has_file_error(self) -> bool:
        return any(i.severity == "error" and i.row is None for i in self.issues)

    def nothing_written(self) -> None:
        """A refused commit: counts say what happened, which is nothing."""
        self.created = self.updated = 0
        if self.households_created is not None:
            self.households_created = 0
        self.skipped = self.total_rows

    def stop_before_writing(self, dry_run: bool) -> bool:
        """True when nothing may be written: a dry run, or any error (all-or-nothing)."""
        if not self.ok:
            if not dry_run:
                self.nothing_written()
            return True
        return dry_run

    def as_dict(self) -> dict[str, Any]:
        issues = sorted(self.issues, key=lambda i: (i.row is not None, i.row or 0))
        out: dict[str, Any] = {
            "kind": self.kind,
            "dry_run": self.dry_run,
            "committed": self.committed,
            "total_rows": self.total_rows,
            "created": self.created,
            "updated": self.updated,
            "skipped": self.skipped,
            "errors": sum(i.severity == "error" for i in issues),
            "warnings": sum(i.severity == "warning" for i in issues),
            "issues": [
                {
                    "row": i.row,
                    "column": i.column,
                    "code": i.code,
                    "severity": i.severity,
                    "message": {"ja": i.message_ja, "en": i.message_en},
                }
                for i in issues
            ],
            "approximate_locations": self.approximate_locations,
        }
        if self.households_created is not None:
            out["households_created"] = self.households_created
        return out


def too_long(
    report: ImportReport, row: int | None, column: str | None, what: str, value: str | None, limit: int
) -> bool:
    if value is not None and len(value) > limit:
        report.issues.append(
            error(
                row,
                column,
                "too_long",
                f"「{what}」が長すぎます（{len(value)}文字、上限{limit}文字）。",
                f"'{what}' is too long ({len(value)} characters, at most {limit}).",
            )
        )
        return True
    return False


async def lock(db: AsyncSession, kind: str, tenant_id: uuid.UUID) -> None:
    """One import of a kind per tenant at a time, so two uploads of one file cannot both pass the checks."""
    await db.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:kind), hashtext(:tenant))"),
        {"kind": f"tonari.import.{kind}", "tenant": str(tenant_id)},
    )
