"""Accounts: users, their district scopes, server-side sessions, and login throttling data."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db.base import Base, TenantOwned, Timestamps, uuid7


class Role(str, enum.Enum):  # noqa: UP042 - StrEnum would change str() of a member, which code may print
    admin = "admin"
    staff = "staff"
    coordinator = "coordinator"
    commissioner = "commissioner"  # 民生委員
    watcher = "watcher"  # 見守り協力員 / 福祉協力員
    vc_volunteer = "vc_volunteer"  # 災害VC当日ボランティア
    vc_desk = "vc_desk"  # 災害VCの応援職員: the VC desk only, no registry (0025-vc-roles)


ROLE_VALUES = tuple(r.value for r in Role)


class User(TenantOwned, Timestamps, Base):
    __tablename__ = "app_user"
    __table_args__ = (
        UniqueConstraint("tenant_id", "login"),
        CheckConstraint(f"role IN {ROLE_VALUES!r}", name="role_known"),
        CheckConstraint("login = lower(login)", name="login_lowercase"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    login: Mapped[str] = mapped_column(String(100), nullable=False)
    display_name: Mapped[str] = mapped_column(String(200), nullable=False)
    role: Mapped[str] = mapped_column(String(32), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    # Whole-tenant access, stated explicitly: without it a user sees only their scope's districts,
    # and no scope rows means no district (never "everything" by absence; migration 0011).
    all_districts: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    password_changed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    # Set by an admin's password reset: until the user chooses a new password the API answers
    # only me / change-password / logout.
    must_change_password: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    district_scopes: Mapped[list[UserDistrictScope]] = relationship(lazy="selectin", cascade="all, delete-orphan")

    @property
    def district_ids(self) -> list[uuid.UUID]:
        return sorted(s.district_id for s in self.district_scopes)


class UserDistrictScope(TenantOwned, Base):
    """Districts a user's role is limited to (with their sub-districts). A district that scopes a
    user cannot be deleted (RESTRICT): the user would silently lose, or under the old rule gain, access."""

    __tablename__ = "user_district_scope"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "user_id"], ["app_user.tenant_id", "app_user.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "district_id"], ["district.tenant_id", "district.id"], ondelete="RESTRICT"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    district_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)


class LoginDirectory(Base):
    """Global login → tenant map, so people sign in with a plain ID and no tenant picker.

    Not tenant-owned on purpose: it is how a request finds its tenant. Under Citus this is a
    reference table (small, replicated).
    """

    __tablename__ = "login_directory"

    login: Mapped[str] = mapped_column(String(100), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tenant.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)


class UserSession(TenantOwned, Base):
    """A signed-in browser. The cookie holds `<tenant_id>.<token>`; only sha256(token) is stored."""

    __tablename__ = "user_session"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "user_id"], ["app_user.tenant_id", "app_user.id"], ondelete="CASCADE"),
        Index("ix_user_session_expires_at", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the token
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    absolute_expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    client_addr: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(400))


class LoginFailure(Base):
    """Failed sign-ins, for throttling (server/accounts/throttle.py).

    `device_key` is set when the attempt carried a valid device cookie: such a failure counts
    against that device only. Not tenant-owned: a failure for an unknown login has no tenant.
    Old rows are pruned on write.
    """

    __tablename__ = "login_failure"
    __table_args__ = (
        Index("ix_login_failure_login_key_at", "login_key", "at"),
        Index("ix_login_failure_client_key_at", "client_key", "at"),
        Index("ix_login_failure_device_key_at", "device_key", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    login_key: Mapped[str] = mapped_column(String(100), nullable=False)
    client_key: Mapped[str] = mapped_column(String(64), nullable=False)
    device_key: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
