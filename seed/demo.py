"""Kasama demo: the council tenant, one demo account per role, and the demo registry.

Idempotent: re-running keeps existing accounts and their passwords. Passwords are generated on
first run (never written in the repo), printed, and kept in the credentials file (mode 600) so a
second `make run` prints the same ones. Names are synthetic.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from seed.history import load_past_drill
from seed.registry import load_kasama_registry
from seed.vc import load_demo_centre
from server.accounts.provision import ensure_tenant, ensure_user, new_password
from server.core import context
from server.tenancy.models import Tenant

KASAMA = {"name": "笠間市社会福祉協議会", "municipality_code": "08216", "time_zone": "Asia/Tokyo"}

# (login, role, display name) — synthetic people, clearly marked as demo accounts.
# The commissioner is scoped to one council branch (seed/registry.py); the others see the whole
# tenant, as their roles allow.
DEMO_ACCOUNTS: tuple[tuple[str, str, str], ...] = (
    ("admin", "admin", "デモ 管理者"),
    ("staff", "staff", "デモ 社協職員"),
    ("coordinator", "coordinator", "デモ コーディネーター"),
    ("commissioner", "commissioner", "デモ 民生委員"),
    ("watcher", "watcher", "デモ 見守り協力員"),
    ("volunteer", "vc_volunteer", "デモ 災害VCボランティア"),
    ("vcdesk", "vc_desk", "デモ 災害VC応援職員"),  # a helper lent by another council: the desk only
)
# Roles that see no district's registry: a new account of theirs gets no whole-tenant scope.
NO_DISTRICT_SCOPE = ("commissioner", "vc_volunteer", "vc_desk")


@dataclass
class Credential:
    login: str
    password: str
    role: str


def _read_credentials(path: Path | None) -> dict[str, Credential]:
    if path is None or not path.exists():
        return {}
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
        return {r["login"]: Credential(r["login"], r["password"], r["role"]) for r in rows}
    except (ValueError, KeyError, TypeError):
        return {}


def _write_credentials(path: Path, creds: list[Credential]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump([c.__dict__ for c in creds], fh, ensure_ascii=False, indent=2)
    os.chmod(tmp, 0o600)
    tmp.replace(path)


async def seed_demo(
    sessionmaker: async_sessionmaker[AsyncSession], credentials_path: Path | None, *, with_registry: bool = True
) -> list[Credential]:
    known = _read_credentials(credentials_path)
    async with sessionmaker() as db:
        async with db.begin():
            tenant = await ensure_tenant(db, **KASAMA)
            tenant_id = tenant.id
        context.update(tenant_id=tenant_id, role="system")
        creds: list[Credential] = []
        user_ids: dict[str, uuid.UUID] = {}
        async with db.begin():
            stored = await db.get(Tenant, tenant_id)
            assert stored is not None
            tenant = stored
            for login, role, display in DEMO_ACCOUNTS:
                password = known[login].password if login in known else new_password()
                user, _ = await ensure_user(
                    db,
                    tenant,
                    login,
                    role,
                    display,
                    password,
                    all_districts=role not in NO_DISTRICT_SCOPE,
                )
                creds.append(Credential(login, password, role))
                user_ids[login] = user.id
        if with_registry:
            async with db.begin():
                counts = await load_kasama_registry(db, tenant_id)
            if counts:
                print("Loaded the Kasama demo registry: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
            async with db.begin():
                drill = await load_past_drill(db, tenant_id)
            if drill:
                print("Loaded a closed past drill: " + ", ".join(f"{k} {v}" for k, v in drill.items()))
            async with db.begin():
                centre = await load_demo_centre(db, tenant_id, user_ids["staff"], user_ids["volunteer"])
            if centre:
                print("Opened a drill volunteer centre: " + ", ".join(f"{k} {v}" for k, v in centre.items()))
        context.update(tenant_id=None, role=None, user_id=None)
    if credentials_path is not None:
        _write_credentials(credentials_path, creds)
    return creds
