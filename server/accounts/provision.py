"""Provisioning tenants and accounts from code: the demo seed, the tests and the benches.

Idempotent: an existing account keeps its row and gets the given password if it differs.
"""

from __future__ import annotations

import secrets
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import LoginDirectory, User
from server.accounts.passwords import hash_password, verify_password
from server.tenancy.models import Tenant


def new_password() -> str:
    """Readable but strong enough for a demo: 3 groups of 4 from an unambiguous alphabet."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(3))


async def ensure_tenant(db: AsyncSession, name: str, municipality_code: str, time_zone: str = "Asia/Tokyo") -> Tenant:
    tenant = (
        await db.execute(select(Tenant).where(Tenant.municipality_code == municipality_code))
    ).scalar_one_or_none()
    if tenant is None:
        tenant = Tenant(name=name, municipality_code=municipality_code, time_zone=time_zone)
        db.add(tenant)
        await db.flush()
    return tenant


async def ensure_user(
    db: AsyncSession,
    tenant: Tenant,
    login: str,
    role: str,
    display_name: str,
    password: str,
    *,
    all_districts: bool = False,
) -> tuple[User, bool]:
    """Create or re-key one account; returns (user, password_changed). `all_districts`: whole-tenant
    access for a new account (otherwise it sees only the districts later added to its scope)."""
    existing = (
        await db.execute(select(User).where(User.tenant_id == tenant.id, User.login == login))
    ).scalar_one_or_none()
    if existing is not None:
        if verify_password(existing.password_hash, password):
            return existing, False
        existing.password_hash = hash_password(password)
        return existing, True
    user = User(
        tenant_id=tenant.id,
        id=uuid.uuid4(),
        login=login,
        role=role,
        display_name=display_name,
        password_hash=hash_password(password),
        all_districts=all_districts,
    )
    db.add(user)
    db.add(LoginDirectory(login=login, tenant_id=tenant.id, user_id=user.id))
    await db.flush()
    return user, True
