"""Sign-in throttling that slows guessing without letting anyone lock an owner out.

Stored in PostgreSQL (`login_failure`; app servers stay stateless). Budgets within a sliding
window (docs/decisions/0003 and its addendum for the figures):

- A **trusted** attempt carries a valid device cookie of the account (server/accounts/devices.py).
  It is budgeted per device only: other clients' failures never refuse it. A device that uses up
  its budget is trusted no more until its failures age out; it is then treated as untrusted.
- An **untrusted** attempt is budgeted per client (its address: at most `max_failures` failures,
  which also bounds every (account, client) pair), and per account across all untrusted clients:
  past `account_max_failures`, each further attempt must wait a delay that doubles with every
  failure (capped at `max_delay_seconds`) since the account's last untrusted failure. A lone
  attacker is stopped by the per-client budget long before the account's delay starts.

A success clears the failures of its own (account, client) pair and device; the failures other
clients made on the account stay, so the owner signing in does not hand an attacker a new budget.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import and_, delete, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import LoginFailure


def login_key(login: str) -> str:
    """NFKC folds full-width letters typed with a Japanese IME (ｗａｔｃｈｅｒ → watcher)."""
    return unicodedata.normalize("NFKC", login).strip().lower()


@dataclass(frozen=True)
class Budget:
    max_failures: int  # per client (untrusted) and per device (trusted)
    account_max_failures: int  # untrusted failures on one account before its delay starts
    max_delay_seconds: int
    window: timedelta


@dataclass(frozen=True)
class Decision:
    """`device_key`: the device the attempt is budgeted on (None = untrusted).
    `refused`/`retry_after`: why and for how long the attempt is refused, if it is."""

    device_key: str | None
    refused: Literal["client", "account"] | None = None
    retry_after: int = 0


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


async def check(db: AsyncSession, key: str, client: str, device_key: str | None, budget: Budget) -> Decision:
    """Whether this attempt may go on to the password check, and on which budget."""
    now = datetime.now(UTC)
    since = now - budget.window
    untrusted = LoginFailure.device_key.is_(None)
    on_client = and_(LoginFailure.client_key == client, untrusted)
    on_account = and_(LoginFailure.login_key == key, untrusted)
    on_device = and_(LoginFailure.login_key == key, LoginFailure.device_key == device_key) if device_key else false()
    row = (
        await db.execute(
            select(
                func.count().filter(on_device),
                func.count().filter(on_client),
                func.count().filter(on_account),
                func.max(LoginFailure.at).filter(on_account),
            ).where(LoginFailure.at > since, or_(on_client, on_account, on_device))
        )
    ).one()
    device_failures, client_failures, account_failures, account_last = row
    if device_key is not None and device_failures < budget.max_failures:
        return Decision(device_key=device_key)
    if client_failures >= budget.max_failures:
        # The (count - max + 1)-th oldest must age out for the count to drop below the limit.
        nth = (
            await db.execute(
                select(LoginFailure.at)
                .where(on_client, LoginFailure.at > since)
                .order_by(LoginFailure.at)
                .offset(client_failures - budget.max_failures)
                .limit(1)
            )
        ).scalar_one()
        return Decision(None, "client", _seconds_until(nth + budget.window, now))
    if account_failures >= budget.account_max_failures and account_last is not None:
        delay = min(2 ** min(account_failures - budget.account_max_failures, 30), budget.max_delay_seconds)
        free_at = account_last + timedelta(seconds=delay)
        if free_at > now:
            return Decision(None, "account", _seconds_until(free_at, now))
    return Decision(device_key=None)


async def note_failure(db: AsyncSession, key: str, client: str, device_key: str | None, *, window: timedelta) -> None:
    db.add(LoginFailure(login_key=key[:100], client_key=client[:64], device_key=device_key))
    # Keep the table small: anything outside the window no longer counts.
    await db.execute(delete(LoginFailure).where(LoginFailure.at < datetime.now(UTC) - 2 * window))
    await db.flush()


async def clear_after_success(db: AsyncSession, key: str, client: str, device_key: str | None) -> None:
    """The owner got in from here: forget this (account, client) pair's and this device's failures."""
    mine = and_(LoginFailure.client_key == client, LoginFailure.device_key.is_(None))
    if device_key is not None:
        mine = or_(mine, LoginFailure.device_key == device_key)
    await db.execute(delete(LoginFailure).where(LoginFailure.login_key == key, mine))
