"""The audit log and its hash chain: append-only, written only by functions in the database.

The app's role may read these tables but not write them: rows are appended by
`tonari_audit_append()` and chained by `tonari_audit_seal()` (migration 0013, decision 0004).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Identity,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, INET, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, TenantOwned

MODES = ("normal", "disaster", "drill")


class AuditEntry(TenantOwned, Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        CheckConstraint(f"mode IN {MODES!r}", name="mode_known"),
        Index("ix_audit_log_tenant_id_at", "tenant_id", "at"),
        Index("ix_audit_log_tenant_id_action", "tenant_id", "action"),
        Index("ix_audit_log_tenant_id_actor_user_id", "tenant_id", "actor_user_id"),
        Index("ix_audit_log_tenant_id_txid", "tenant_id", "txid"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    actor_login: Mapped[str | None] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    object_type: Mapped[str | None] = mapped_column(String(64))
    # One row per request even when it touches many records (e.g. a list read of 200 people).
    object_ids: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}")
    mode: Mapped[str] = mapped_column(String(16), nullable=False, server_default="normal")
    operation_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    request_id: Mapped[str | None] = mapped_column(String(64))
    client_addr: Mapped[str | None] = mapped_column(INET)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    # The writing transaction's id (pg_current_xact_id): the sealer chains a row once every
    # transaction up to it has ended. NULL only on rows written before the chain existed.
    txid: Mapped[int | None] = mapped_column(BigInteger)


class AuditChainLink(TenantOwned, Base):
    """One link per audit row, in the order sealed: hash = sha256(previous hash ‖ row digest)."""

    __tablename__ = "audit_chain"
    __table_args__ = (
        CheckConstraint("octet_length(hash) = 32", name="hash_sha256"),
        UniqueConstraint("tenant_id", "audit_id"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    audit_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class AuditSeal(TenantOwned, Base):
    """One row per sealing pass: where the chain's head was left and up to which transaction."""

    __tablename__ = "audit_seal"

    last_seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    sealed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    horizon: Mapped[int | None] = mapped_column(BigInteger)
    head_hash: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    row_count: Mapped[int] = mapped_column(Integer, nullable=False)
