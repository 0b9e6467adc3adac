"""Wire shapes of the accounts API (msgspec structs: validated on the way in, typed on the way out)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import msgspec

from server.accounts.models import User
from server.tenancy.models import Tenant

if TYPE_CHECKING:
    from server.accounts.middleware import SignedInUser


class LoginRequest(msgspec.Struct, forbid_unknown_fields=True):
    login: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class PasswordChangeRequest(msgspec.Struct, forbid_unknown_fields=True):
    current_password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
    new_password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class TenantOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    municipality_code: str
    time_zone: str

    @classmethod
    def of(cls, tenant: Tenant) -> TenantOut:
        return cls(
            id=tenant.id, name=tenant.name, municipality_code=tenant.municipality_code, time_zone=tenant.time_zone
        )


class UserOut(msgspec.Struct):
    id: uuid.UUID
    login: str
    display_name: str
    role: str
    district_ids: list[uuid.UUID]
    all_districts: bool
    tenant: TenantOut
    # An admin reset the password: the PWA sends the user to the change-password screen, and
    # the API answers nothing else until a new one is chosen.
    must_change_password: bool

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
            must_change_password=user.must_change_password,
        )


class AccountOut(msgspec.Struct):
    """A user as the admins' user list shows it."""

    id: uuid.UUID
    login: str
    display_name: str
    role: str
    is_active: bool
    must_change_password: bool
    last_login_at: datetime | None

    @classmethod
    def of(cls, user: User) -> AccountOut:
        return cls(
            id=user.id,
            login=user.login,
            display_name=user.display_name,
            role=user.role,
            is_active=user.is_active,
            must_change_password=user.must_change_password,
            last_login_at=user.last_login_at,
        )


class PasswordResetOut(msgspec.Struct):
    """Shown once to the admin; never stored or logged in the clear."""

    user: AccountOut
    temporary_password: str
