"""Wire shapes of the accounts API (msgspec structs: validated on the way in, typed on the way out)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated

import msgspec

from server.accounts.models import User
from server.tenancy.models import Tenant

if TYPE_CHECKING:
    from server.accounts.middleware import SignedInUser


class LoginRequest(msgspec.Struct, forbid_unknown_fields=True):
    login: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class TenantOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    municipality_code: str
    time_zone: str

    @classmethod
    def of(cls, tenant: Tenant) -> TenantOut:
        return cls(id=tenant.id, name=tenant.name, municipality_code=tenant.municipality_code, time_zone=tenant.time_zone)


class UserOut(msgspec.Struct):
    id: uuid.UUID
    login: str
    display_name: str
    role: str
    district_ids: list[uuid.UUID]
    all_districts: bool
    tenant: TenantOut

    @classmethod
    def of(cls, user: User | SignedInUser, tenant: Tenant) -> UserOut:
        return cls(
            id=user.id,
            login=user.login,
            display_name=user.display_name,
            role=user.role,
            district_ids=user.district_ids,
            all_districts=user.all_districts,
            tenant=TenantOut.of(tenant),
        )
