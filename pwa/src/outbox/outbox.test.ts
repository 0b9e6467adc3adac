import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createApiClient } from '../api/client';
import { TonariDB, type OutboxRow, type VisitMutation } from '../device-db/db';
import { BACKOFF_CAP_MS, backoffMs, MAX_BATCH, Outbox, RETRY_AFTER_CAP_MS, retryDelayMs, rowsToCsv, rowsToJson, type OutboxStatus } from './outbox';
import { isoWithOffset, uuidv7 } from './uuid';

const OP = '0190c6a4-0000-7000-8000-0000000000a1';
const HH = '0190c6a4-0000-7000-8000-0000000000b1';

type Handler = (body: { mutations: VisitMutation[] }) => Response;

let db: TonariDB;
let clock: number;
let online: boolean;
let dbSeq = 0;

/** An Outbox over the REAL api client with a scripted fetch: status codes map exactly as in the app. */
function harness(handlers: Handler[]) {
  const seen: Array<{ mutations: VisitMutation[]; statesDuring: string[] }> = [];
  const fetchMock = vi.fn(async (_input: RequestInfo | URL, init: RequestInit = {}) => {
    const body = JSON.parse(String(init.body)) as { mutations: VisitMutation[] };
    // What the database says while the request is in flight.
    const statesDuring = (await db.outbox.bulkGet(body.mutations.map((m) => m.client_id))).map((r) => r?.state ?? 'missing');
    seen.push({ mutations: body.mutations, statesDuring });
    const next = handlers.shift();
    if (!next) throw new Error('unexpected push');
    return next(body);
  });
  const api = createApiClient({ fetch: fetchMock as typeof fetch, readCookie: () => 'tok' });
  const outbox = new Outbox({ db, push: (b) => api.post('/api/sync/push', b), now: () => clock, random: () => 0.5, isOnline: () => online });
  return { outbox, seen, fetchMock };
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}
const problem = (status: number, code: string) =>
  new Response(JSON.stringify({ status, code, title: code }), { status, headers: { 'Content-Type': 'application/problem+json' } });
const all = (status: string): Handler => (b) => json({ results: b.mutations.map((m) => ({ client_id: m.client_id, status })) });

async function enqueue(outbox: Outbox, n = 1): Promise<OutboxRow[]> {
  const rows: OutboxRow[] = [];
  for (let i = 0; i < n; i++) {
    clock += 1;
    rows.push(await outbox.enqueueVisit({ operation_id: OP, household_id: HH, outcome: 'safe' }));
  }
  return rows;
}
const states = async () => (await db.outbox.orderBy('created_at').toArray()).map((r) => r.state);

beforeEach(() => {
  db = new TonariDB(`test-${++dbSeq}`);
  clock = Date.parse('2026-11-27T00:00:00Z');
  online = true;
});
afterEach(async () => {
  db.close();
  await TonariDB.delete(db.name);
});

describe('uuidv7', () => {
  it('has version 7, the RFC variant and the timestamp in the first 48 bits', () => {
    const t = Date.parse('2026-11-27T00:00:00Z');
    const id = uuidv7(t);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(t);
    expect(new Set(Array.from({ length: 500 }, () => uuidv7(t))).size).toBe(500);
  });

  it('device_time carries a UTC offset', () => {
    expect(isoWithOffset(new Date())).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$/);
  });
});

describe('outbox state machine', () => {
  it('enqueue stores a pending row with the full visit payload', async () => {
    const { outbox } = harness([]);
    const row = await outbox.enqueueVisit({ operation_id: OP, household_id: HH, outcome: 'rescue', note: ' 2階 ' });
    const stored = await db.outbox.get(row.client_id);
    expect(stored).toMatchObject({ state: 'pending', attempts: 0, next_attempt_at: 0, last_error: null });
    expect(stored!.payload).toMatchObject({ type: 'visit', operation_id: OP, client_id: row.client_id, household_id: HH, outcome: 'rescue', note: '2階' });
    expect((await outbox.status()).waiting).toBe(1);
  });

  it('避難済 carries its shelter, or says explicitly that it is unknown (never both)', async () => {
    const { outbox } = harness([]);
    const unknown = await outbox.enqueueVisit({ operation_id: OP, household_id: HH, outcome: 'evacuated', shelter_unknown: true });
    expect(unknown.payload).toMatchObject({ outcome: 'evacuated', shelter_unknown: true });
    expect(unknown.payload).not.toHaveProperty('shelter_id');
    const named = await outbox.enqueueVisit({ operation_id: OP, household_id: HH, outcome: 'evacuated', shelter_id: 's1', shelter_unknown: true });
    expect(named.payload).toMatchObject({ shelter_id: 's1' });
    expect(named.payload).not.toHaveProperty('shelter_unknown');
  });

  it('pending → sending → removed after accepted/duplicate', async () => {
    const { outbox, seen } = harness([
      (b) => json({ results: [{ client_id: b.mutations[0]!.client_id, status: 'accepted' }, { client_id: b.mutations[1]!.client_id, status: 'duplicate' }] }),
    ]);
    await enqueue(outbox, 2);
    await outbox.flush();
    expect(seen).toHaveLength(1);
    expect(seen[0]!.statesDuring).toEqual(['sending', 'sending']);
    expect(await db.outbox.count()).toBe(0);
    expect(await outbox.status()).toMatchObject({ waiting: 0, conflict: 0, dead: 0 });
  });

  it('conflict → kept in state conflict with the server message', async () => {
    const { outbox } = harness([
      (b) => json({ results: [{ client_id: b.mutations[0]!.client_id, status: 'conflict', code: 'visit_conflict', message: { ja: '同じIDで内容の異なる記録がすでにあります。' } }] }),
    ]);
    const [row] = await enqueue(outbox);
    await outbox.flush();
    const stored = await db.outbox.get(row!.client_id);
    expect(stored!.state).toBe('conflict');
    expect(stored!.last_error).toContain('visit_conflict');
    expect(stored!.last_error).toContain('同じIDで');
    expect((await outbox.status()).conflict).toBe(1);
    expect((await outbox.list(['conflict'])).map((r) => r.client_id)).toEqual([row!.client_id]);
  });

  it('invalid / forbidden → dead, kept and exportable; later pushes skip them', async () => {
    const { outbox, seen } = harness([
      (b) => json({ results: [{ client_id: b.mutations[0]!.client_id, status: 'invalid', code: 'invalid_outcome' }, { client_id: b.mutations[1]!.client_id, status: 'forbidden', code: 'not_assigned' }] }),
    ]);
    await enqueue(outbox, 2);
    await outbox.flush();
    expect(await states()).toEqual(['dead', 'dead']);
    await outbox.flush();
    expect(seen).toHaveLength(1); // dead rows are never re-sent
    const csv = rowsToCsv(await outbox.list(['dead']));
    expect(csv.startsWith('\uFEFFclient_id,state,')).toBe(true);
    expect(csv.trim().split('\r\n')).toHaveLength(3);
    expect(csv).toContain('invalid_outcome');
    const parsed = JSON.parse(rowsToJson(await outbox.list(['dead'])));
    expect(parsed.items).toHaveLength(2);
  });

  it.each([
    ['network error', () => { throw new TypeError('Failed to fetch'); }],
    ['500', () => problem(500, 'internal')],
    ['502 proxy page', () => new Response('<h1>Bad gateway</h1>', { status: 502, headers: { 'Content-Type': 'text/html' } })],
    ['503', () => problem(503, 'unavailable')],
    ['504', () => new Response('', { status: 504 })],
    ['captive portal HTML 200', () => new Response('<html>Free Wi-Fi login</html>', { status: 200, headers: { 'Content-Type': 'text/html' } })],
    ['200 JSON without results', () => json({ hello: 'portal' })],
  ] as Array<[string, Handler]>)('%s → back to pending with backoff, nothing removed', async (_name, failing) => {
    const { outbox, seen } = harness([failing, all('accepted')]);
    const rows = await enqueue(outbox, 3);
    await outbox.flush();
    expect(seen).toHaveLength(1);
    const after = await db.outbox.toArray();
    expect(after).toHaveLength(3);
    for (const r of after) {
      expect(r.state).toBe('pending');
      expect(r.attempts).toBe(1);
      expect(r.next_attempt_at).toBe(clock + backoffMs(1, 0.5));
      expect(r.last_error).toBeTruthy();
    }
    // Not due yet: a flush sends nothing.
    await outbox.flush();
    expect(seen).toHaveLength(1);
    clock += BACKOFF_CAP_MS;
    await outbox.flush();
    expect(seen).toHaveLength(2);
    expect(seen[1]!.mutations.map((m) => m.client_id)).toEqual(rows.map((r) => r.client_id));
    expect(await db.outbox.count()).toBe(0);
  });

  it('backoff grows exponentially with jitter and is capped', () => {
    expect(backoffMs(1, 0)).toBe(1_000);
    expect(backoffMs(1, 1)).toBe(2_000);
    expect(backoffMs(2, 1)).toBe(4_000);
    expect(backoffMs(5, 1)).toBe(32_000);
    expect(backoffMs(30, 1)).toBe(BACKOFF_CAP_MS);
    expect(backoffMs(30, 0)).toBe(BACKOFF_CAP_MS / 2);
  });

  it('retries with growing delays on repeated failure', async () => {
    const fail = () => problem(503, 'unavailable');
    const { outbox } = harness([fail, fail, fail]);
    const [row] = await enqueue(outbox);
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      await outbox.flush();
      const r = (await db.outbox.get(row!.client_id))!;
      delays.push(r.next_attempt_at - clock);
      clock = r.next_attempt_at;
    }
    expect(delays).toEqual([backoffMs(1, 0.5), backoffMs(2, 0.5), backoffMs(3, 0.5)]);
    expect(delays[2]!).toBeGreaterThan(delays[1]!);
  });

  const busy = (code: string, retryAfter: string) => () =>
    new Response(JSON.stringify({ status: 503, code, title: code }), {
      status: 503,
      headers: { 'Content-Type': 'application/problem+json', 'Retry-After': retryAfter },
    });

  it.each([
    // first try: our backoff (1.5 s) is shorter than what the server asked for
    ['database_busy', 0, '30', 30_000],
    // tenth try: our backoff (≈ 3.75 min) is longer; the server's word wins
    ['database_unavailable', 9, '30', 30_000],
    // an absurd header is capped
    ['database_busy', 0, '86400', RETRY_AFTER_CAP_MS],
  ] as Array<[string, number, string, number]>)(
    '503 %s with Retry-After (after %i tries, header %s s): the whole queue waits that long plus jitter, nothing dropped',
    async (code, priorTries, header, expected) => {
      const { outbox, seen } = harness([busy(code, header), all('accepted')]);
      const rows = await enqueue(outbox, 3);
      for (const r of rows) await db.outbox.update(r.client_id, { attempts: priorTries });
      const t0 = clock;
      await outbox.flush();
      expect(seen).toHaveLength(1);
      const wait = expected * 1.125; // random() = 0.5 → half of the 25 % jitter
      expect(retryDelayMs(priorTries + 1, 0.5, Number(header) * 1000)).toBe(wait);
      for (const r of await db.outbox.toArray()) {
        expect(r.state).toBe('pending');
        expect(r.next_attempt_at).toBe(t0 + wait);
        expect(r.last_error).toBe(`HTTP 503 ${code}`);
      }
      // Just before: nothing is sent, not by the timer, nor by "send now" / the network returning,
      // nor for a visit recorded meanwhile.
      clock = t0 + expected - 1;
      await outbox.flush();
      await outbox.retryNow();
      await enqueue(outbox, 1);
      await outbox.flush();
      expect(seen).toHaveLength(1);
      expect(await db.outbox.count()).toBe(4);
      clock = t0 + wait;
      await outbox.flush();
      expect(seen).toHaveLength(2);
      expect(seen[1]!.mutations.map((m) => m.client_id).slice(0, 3)).toEqual(rows.map((r) => r.client_id));
      expect(await db.outbox.count()).toBe(0);
    },
  );

  it('Retry-After: at least the server\'s time, up to 25 % more, capped; without it our own backoff', () => {
    expect(retryDelayMs(1, 0, 30_000)).toBe(30_000);
    expect(retryDelayMs(1, 1, 30_000)).toBe(37_500);
    expect(retryDelayMs(20, 0, 2_000)).toBe(2_000);
    expect(retryDelayMs(1, 0, 3_600_000)).toBe(RETRY_AFTER_CAP_MS);
    expect(retryDelayMs(3, 0.5, null)).toBe(backoffMs(3, 0.5));
  });

  it('401 stops the whole queue, reports needsSignIn, and resumes after login', async () => {
    const { outbox, seen } = harness([() => problem(401, 'not_authenticated'), all('accepted')]);
    const statuses: OutboxStatus[] = [];
    outbox.subscribe((s) => statuses.push(s));
    await enqueue(outbox, 2);
    await outbox.flush();
    expect(outbox.needsSignIn).toBe(true);
    expect((await outbox.status()).needsSignIn).toBe(true);
    expect(statuses.at(-1)!.needsSignIn).toBe(true);
    expect(await states()).toEqual(['pending', 'pending']);
    // Paused: triggers do nothing, even for new rows.
    await enqueue(outbox);
    await outbox.flush();
    await outbox.retryNow();
    expect(seen).toHaveLength(1);
    await outbox.resume();
    expect(outbox.needsSignIn).toBe(false);
    expect(seen).toHaveLength(2);
    expect(seen[1]!.mutations).toHaveLength(3);
    expect(await db.outbox.count()).toBe(0);
    expect(statuses.at(-1)).toMatchObject({ waiting: 0, needsSignIn: false });
  });

  it('stale "sending" rows (crash mid-request) go back to pending on start', async () => {
    const { outbox, seen } = harness([all('accepted')]);
    const rows = await enqueue(outbox, 2);
    await db.outbox.update(rows[0]!.client_id, { state: 'sending', attempts: 1 });
    // A flush before recovery does not touch the row that is "in flight".
    expect(await outbox.recover()).toBe(1);
    expect(await states()).toEqual(['pending', 'pending']);
    await outbox.flush();
    expect(seen[0]!.mutations).toHaveLength(2);
    expect(await db.outbox.count()).toBe(0);
  });

  it('splits into batches of at most 1000', async () => {
    const { outbox, seen } = harness([all('accepted'), all('accepted'), all('accepted')]);
    const rows: OutboxRow[] = Array.from({ length: 2345 }, (_, i) => {
      const id = uuidv7(clock + i);
      return { client_id: id, payload: { type: 'visit', operation_id: OP, client_id: id, household_id: HH, outcome: 'safe', device_time: isoWithOffset() }, state: 'pending', attempts: 0, next_attempt_at: 0, last_error: null, created_at: clock + i };
    });
    await db.outbox.bulkAdd(rows);
    await outbox.flush();
    expect(seen.map((s) => s.mutations.length)).toEqual([MAX_BATCH, MAX_BATCH, 345]);
    // Oldest first, each sent exactly once.
    expect(seen.flatMap((s) => s.mutations.map((m) => m.client_id))).toEqual(rows.map((r) => r.client_id));
    expect(await db.outbox.count()).toBe(0);
  });

  it('413 halves the batch and sends the rest; a single item that is still too big is dead', async () => {
    const { outbox, seen } = harness([() => problem(413, 'payload_too_large'), all('accepted'), all('accepted')]);
    await enqueue(outbox, 4);
    await outbox.flush();
    expect(seen.map((s) => s.mutations.length)).toEqual([4, 2, 2]);
    expect(await db.outbox.count()).toBe(0);

    const h2 = harness([() => problem(413, 'payload_too_large')]);
    const [big] = await enqueue(h2.outbox);
    await h2.outbox.flush();
    // A batch of one that is still too big can never be sent: dead (kept, exportable).
    const stored = (await db.outbox.get(big!.client_id))!;
    expect(stored.state).toBe('dead');
    expect(stored.last_error).toContain('413');
  });

  it('an item is never removed without a 2xx result naming it', async () => {
    const { outbox } = harness([
      // The server answers for only one of three (and an unknown id).
      (b) => json({ results: [{ client_id: b.mutations[1]!.client_id, status: 'accepted' }, { client_id: 'someone-else', status: 'accepted' }] }),
    ]);
    const rows = await enqueue(outbox, 3);
    await outbox.flush();
    const left = (await db.outbox.orderBy('created_at').toArray()).map((r) => [r.client_id, r.state]);
    expect(left).toEqual([
      [rows[0]!.client_id, 'pending'],
      [rows[2]!.client_id, 'pending'],
    ]);
  });

  it('a whole-batch 4xx other than 401/413 keeps the rows as failed', async () => {
    const { outbox } = harness([() => problem(403, 'forbidden')]);
    await enqueue(outbox, 2);
    await outbox.flush();
    expect(await states()).toEqual(['failed', 'failed']);
    expect((await outbox.status()).waiting).toBe(2);
  });

  it('does not send while the browser is offline, and sends when asked after it returns', async () => {
    const { outbox, seen } = harness([all('accepted')]);
    online = false;
    await enqueue(outbox, 5);
    await outbox.flush();
    expect(seen).toHaveLength(0);
    expect((await outbox.status()).waiting).toBe(5);
    online = true;
    await outbox.retryNow();
    expect(seen).toHaveLength(1);
    expect(await db.outbox.count()).toBe(0);
  });

  it('concurrent flushes never send the same row twice', async () => {
    const { outbox, seen } = harness([all('accepted'), all('accepted')]);
    await enqueue(outbox, 3);
    await Promise.all([outbox.flush(), outbox.flush(), outbox.flush()]);
    const sent = seen.flatMap((s) => s.mutations.map((m) => m.client_id));
    expect(new Set(sent).size).toBe(sent.length);
    expect(sent).toHaveLength(3);
  });
});

describe("a leader's report (#18) in the same outbox", () => {
  const DISPATCH = '0190c6a4-0000-7000-8000-0000000000d1';
  const VC_OP = '0190c6a4-0000-7000-8000-0000000000c1';
  type Call = { path: string; body: Record<string, unknown> };

  /** The real api client; `/api/sync/push` and the report route answered by scripts of their own. */
  function both(visits: Handler[], reports: Array<(body: Record<string, unknown>) => Response>) {
    const calls: Call[] = [];
    const fetchMock = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
      const path = new URL(String(input), 'http://x').pathname;
      const body = JSON.parse(String(init.body)) as Record<string, unknown>;
      calls.push({ path, body });
      const next = path === '/api/sync/push' ? visits.shift() : reports.shift();
      if (!next) throw new Error(`unexpected ${path}`);
      return next(body as never);
    });
    const api = createApiClient({ fetch: fetchMock as typeof fetch, readCookie: () => 'tok' });
    const outbox = new Outbox({
      db, now: () => clock, random: () => 0.5, isOnline: () => online,
      push: (b) => api.post('/api/sync/push', b),
      pushReport: (id, b) => api.post(`/api/vc/dispatches/${id}/report`, b),
    });
    return { outbox, calls };
  }
  const report = (outbox: Outbox) => {
    clock += 1;
    return outbox.enqueueReport({
      operation_id: VC_OP, dispatch_id: DISPATCH, label: '【訓練】', outcome: 'done', people: 3, hours: 2.5, injuries: 0,
      returns: [{ code: 'shovel', returned: 2 }], work_done: ' 泥出し ', remaining: '', near_misses: '',
    });
  };
  const stored = (b: Record<string, unknown>) => json({ id: 'r', client_id: b.client_id, need_state: 'done' }, 201);
  const down = () => {
    throw new TypeError('Failed to fetch');
  };

  it('is queued offline, counted with visits, and both kinds arrive when back online', async () => {
    const { outbox, calls } = both([all('accepted')], [stored]);
    online = false;
    const [v1] = await enqueue(outbox);
    const r = await report(outbox);
    const [v2] = await enqueue(outbox);
    await outbox.flush();
    expect(calls).toHaveLength(0);
    expect((await outbox.status()).waiting).toBe(3);
    expect(r.payload).toMatchObject({ type: 'vc_report', operation_id: VC_OP, dispatch_id: DISPATCH, work_done: '泥出し' });
    expect(r.payload).not.toHaveProperty('remaining'); // blank text is not sent

    online = true;
    await outbox.retryNow();
    // The visits in one batch; the report alone to its dispatch's route, as the server expects it.
    expect(calls.map((c) => c.path)).toEqual(['/api/sync/push', `/api/vc/dispatches/${DISPATCH}/report`]);
    expect((calls[0]!.body.mutations as VisitMutation[]).map((m) => m.client_id)).toEqual([v1!.client_id, v2!.client_id]);
    expect(calls[1]!.body).toEqual({
      client_id: r.client_id, outcome: 'done', people: 3, hours: 2.5, injuries: 0, device_time: r.payload.device_time,
      returns: [{ code: 'shovel', returned: 2 }], work_done: '泥出し',
    });
    expect(await db.outbox.count()).toBe(0);
    expect((await outbox.status()).waiting).toBe(0);
  });

  it('is sent again under the same client id after a lost answer, and leaves the queue once', async () => {
    const { outbox, calls } = both([], [down, (b) => json({ id: 'r', client_id: b.client_id, need_state: 'done' }, 200)]);
    const r = await report(outbox);
    await outbox.flush();
    expect(await states()).toEqual(['pending']);
    expect((await db.outbox.get(r.client_id))!.next_attempt_at).toBeGreaterThan(clock); // backoff, as a visit
    await outbox.retryNow();
    expect(calls.map((c) => c.body.client_id)).toEqual([r.client_id, r.client_id]);
    expect(calls[0]!.body).toEqual(calls[1]!.body);
    expect(await db.outbox.count()).toBe(0);
  });

  it("a refusal is kept as a refused record with the server's code; a 401 stops the queue", async () => {
    const { outbox } = both([], [() => problem(409, 'vc_already_reported'), () => problem(401, 'not_authenticated')]);
    const refused = await report(outbox);
    await outbox.flush();
    const row = (await db.outbox.get(refused.client_id))!;
    expect(row.state).toBe('dead');
    expect(row.last_error).toMatch(/^invalid vc_already_reported: /);
    expect(await outbox.status()).toMatchObject({ waiting: 0, dead: 1 });

    const waiting = await report(outbox);
    await outbox.flush();
    expect((await db.outbox.get(waiting.client_id))!.state).toBe('pending');
    expect(outbox.needsSignIn).toBe(true);
  });

  it('waits (never dropped) in an outbox that has no report route', async () => {
    const outbox = new Outbox({ db, push: async () => ({ results: [] }), isOnline: () => true });
    await report(outbox);
    await outbox.flush();
    expect(await states()).toEqual(['pending']);
  });

  it('exports with its own columns', async () => {
    const { outbox } = both([], []);
    await report(outbox);
    const [header, line] = rowsToCsv(await outbox.list(['pending'])).replace('\uFEFF', '').trim().split('\r\n');
    const cells = Object.fromEntries(header!.split(',').map((c, i) => [c, line!.split(',')[i]]));
    expect(cells).toMatchObject({ type: 'vc_report', dispatch_id: DISPATCH, outcome: 'done', people: '3', work_done: '泥出し', household_id: '' });
  });
});
