"""The driver pool (server/db/driver.py): on demand up to its size, the warmest connection first,
waiters served in turn, and never a connection in an unknown state handed to the next request."""

from __future__ import annotations

import asyncio

import pytest

from server.db.driver import DriverPool


@pytest.fixture
async def pool(database_url: str):  # type: ignore[no-untyped-def]
    p = DriverPool(database_url, size=2, application_name="tonari-pool-test")
    await p.start()
    yield p
    await p.close()


async def test_opened_on_demand_and_the_last_returned_comes_first(pool: DriverPool) -> None:
    assert pool.opened() == 0
    a = await pool.acquire()
    b = await pool.acquire()
    assert pool.opened() == 2 and pool.in_use() == 2 and a is not b
    await pool.release(a)
    await pool.release(b)
    assert pool.in_use() == 0
    assert await pool.acquire() is b  # last in, first out
    assert await pool.acquire() is a
    await pool.release(a)
    await pool.release(b)


async def test_a_full_pool_makes_the_next_request_wait_its_turn(pool: DriverPool) -> None:
    a, b = await pool.acquire(), await pool.acquire()
    first = asyncio.create_task(pool.acquire())
    second = asyncio.create_task(pool.acquire())
    await asyncio.sleep(0.05)
    assert not first.done() and not second.done() and pool.opened() == 2
    await pool.release(a)
    assert await asyncio.wait_for(first, 1) is a  # in turn: the first waiter gets it
    assert not second.done()
    await pool.release(b)
    assert await asyncio.wait_for(second, 1) is b
    assert pool.opened() == 2
    await pool.release(a)
    await pool.release(b)


async def test_a_cancelled_waiter_does_not_take_the_turn_with_it(pool: DriverPool) -> None:
    a, b = await pool.acquire(), await pool.acquire()
    gone = asyncio.create_task(pool.acquire())
    kept = asyncio.create_task(pool.acquire())
    await asyncio.sleep(0.05)
    gone.cancel()
    await pool.release(a)
    assert await asyncio.wait_for(kept, 1) is a
    with pytest.raises(asyncio.CancelledError):
        await gone
    # Woken, then cancelled before it ran: the turn goes on to the next waiter.
    late = asyncio.create_task(pool.acquire())
    after = asyncio.create_task(pool.acquire())
    await asyncio.sleep(0.05)
    await pool.release(b)
    late.cancel()
    assert await asyncio.wait_for(after, 1) is b
    assert pool.opened() == 2
    await pool.release(a)
    await pool.release(b)


async def test_a_connection_in_a_transaction_or_closed_is_not_handed_on(pool: DriverPool) -> None:
    a = await pool.acquire()
    await a.execute("BEGIN")
    await pool.release(a)  # a path that forgot to end its transaction
    assert a.is_closed() and pool.opened() == 0
    b = await pool.acquire()
    assert b is not a and not b.is_in_transaction()
    assert await b.fetchval("SELECT current_setting('application_name')") == "tonari-pool-test"
    await pool.release(b)
    b.terminate()  # dies while idle (a database restart, an idle timeout)
    c = await pool.acquire()
    assert c is not b and not c.is_closed() and pool.opened() == 1
    await pool.discard(c)
    assert c.is_closed() and pool.opened() == 0


async def test_expire_and_close(pool: DriverPool) -> None:
    a, b = await pool.acquire(), await pool.acquire()
    await pool.release(a)
    await pool.expire()  # after a dropped connection: the idle ones go
    assert a.is_closed() and pool.opened() == 1 and pool.in_use() == 1
    await pool.close()
    await pool.release(b)  # still in use at shutdown: closed when it comes back
    assert b.is_closed() and pool.opened() == 0
    with pytest.raises(RuntimeError):
        await pool.acquire()


async def test_a_connection_returned_twice_is_refused_and_lent_once(pool: DriverPool) -> None:
    a = await pool.acquire()
    await pool.release(a)
    with pytest.raises(RuntimeError, match="returned twice"):
        await pool.release(a)  # a second release of one checkout (asyncpg's pool raised too)
    with pytest.raises(RuntimeError, match="returned twice"):
        await pool.discard(a)
    first, second = await pool.acquire(), await pool.acquire()
    assert first is a and second is not a  # never the same connection for two requests
    assert pool.in_use() == 2 and pool.opened() == 2
    await pool.release(first)
    await pool.release(second)
