"""Login throttling keyed by account and by client, stored in PostgreSQL (app servers stay stateless).

After `max_failures` failures within the window, further tries for that account, or from that
client, get 429 with Retry-After until the oldest counted failure leaves the window. A successful
sign-in clears the account's failures; it is never delayed.
"""

from __future__ import annotations

import math
import unicodedata
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import LoginFailure


def login_key(login: str) -> str:
    """NFKC folds full-width letters typed with a Japanese IME (ｗａｔｃｈｅｒ → watcher)."""
    return unicodedata.normalize("NFKC", login).strip().lower()


async def retry_after(
    db: AsyncSession, key: str, client: str, *, max_failures: int, window: timedelta
) -> int | None:
    """Seconds to wait if either the account or the client is over the limit, else None."""
    since = datetime.now(UTC) - window
    waits: list[int] = []
    for column, value in ((LoginFailure.login_key, key), (LoginFailure.client_key, client)):
        count = (
            await db.execute(select(func.count()).where(column == value, LoginFailure.at > since))
        ).scalar_one()
        if count >= max_failures:
            # The (count - max + 1)-th oldest must age out for the count to drop below the limit.
            nth = (
                await db.execute(
                    select(LoginFailure.at)
                    .where(column == value, LoginFailure.at > since)
                    .order_by(LoginFailure.at)
                    .offset(count - max_failures)
                    .limit(1)
                )
            ).scalar_one()
            waits.append(max(1, math.ceil((nth + window - datetime.now(UTC)).total_seconds())))
    return max(waits) if waits else None


async def note_failure(db: AsyncSession, key: str, client: str, *, window: timedelta) -> None:
    db.add(LoginFailure(login_key=key[:100], client_key=client[:64]))
    # Keep the table small: anything outside the window no longer counts.
    await db.execute(delete(LoginFailure).where(LoginFailure.at < datetime.now(UTC) - 2 * window))
    await db.flush()


async def clear_account(db: AsyncSession, key: str) -> None:
    await db.execute(delete(LoginFailure).where(LoginFailure.login_key == key))
