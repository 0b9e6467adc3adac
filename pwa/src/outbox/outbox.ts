// The offline queue (modelled on Enketo's records queue): ONE queue for every record made in
// the field — visits, and a disaster-VC leader's activity reports (#18). Rules (PRODUCT.md §3):
// one row per mutation; "sending" before each request; removed ONLY after a 2xx
// result for that very item (accepted/duplicate); conflicts and dead items are kept
// and visible; network/5xx → pending with exponential backoff and jitter, or after the
// server's Retry-After when a 429/503 gives one (the whole queue waits); 401 stops
// the whole queue until sign-in; an HTML 200 (captive portal) is a network failure;
// rows left in "sending" by a crash go back to pending on start. Visits go in batches to
// /api/sync/push; a report goes alone to its dispatch's report route, whose answer is read as
// the same per-item result, so both kinds share every state and rule above.
import { ApiError, NetworkError } from '../api/errors';
import type { OutboxMutation, OutboxRow, OutboxState, Sealed, SealedPart, SealedReportPart, SealedVisitPart, TonariDB, VcReportMutation, VisitMutation } from '../device-db/db';
import { isoWithOffset, uuidv7 } from './uuid';

export const MAX_BATCH = 1000;
export const BACKOFF_BASE_MS = 2_000;
export const BACKOFF_CAP_MS = 5 * 60_000;
/** A server's Retry-After is honoured up to this: a wrong header must not stall the queue for hours. */
export const RETRY_AFTER_CAP_MS = 10 * 60_000;
/** Up to this fraction is added to Retry-After, so phones told the same time do not return together. */
export const RETRY_AFTER_JITTER = 0.25;
/** Whole-batch 4xx we do not understand: keep, show, retry rarely. */
export const FAILED_RETRY_MS = BACKOFF_CAP_MS;

export interface OutboxStatus {
  /** pending + sending + failed: not yet stored on the server. */
  waiting: number;
  conflict: number;
  dead: number;
  sending: boolean;
  needsSignIn: boolean;
  lastError: string | null;
}

export type OpenedRow = Omit<OutboxRow, 'sealed'> & { still_sealed?: boolean };

export type PushFn = (body: { mutations: VisitMutation[] }) => Promise<unknown>;

/** `api.post('/api/vc/dispatches/{id}/report', body)`: throws ApiError / NetworkError like the client. */
export type ReportFn = (dispatchId: string, body: Omit<VcReportMutation, 'type' | 'operation_id' | 'dispatch_id' | 'label'>) => Promise<unknown>;

/**
 * Encryption of the personal part of a record (a visit's note and position, a report's free
 * text), provided by src/vault/. Rows with a sealed part are sent only while it can be opened
 * (the app is unlocked); rows without one are sent any time, locked or not.
 */
export interface VisitSealer {
  readonly unlocked: boolean;
  sealRecordPart(part: SealedPart, clientId: string): Promise<Sealed>;
  openRecordPart(row: Pick<OutboxRow, 'client_id' | 'sealed'>): Promise<SealedPart>;
}

export interface NewVisit {
  operation_id: string;
  household_id: string;
  outcome: string;
  note?: string;
  shelter_id?: string;
  /** 避難済 where nobody knows the shelter (ignored when a shelter is given). */
  shelter_unknown?: boolean;
  lon?: number;
  lat?: number;
}

/** A leader's report as the /vc/me form makes it (the client id is made here). */
export interface NewReport {
  operation_id: string;
  dispatch_id: string;
  label: string;
  outcome: 'done' | 'continued';
  people: number;
  hours: number;
  injuries: number;
  returns: { code: string; returned: number }[];
  work_done?: string;
  remaining?: string;
  near_misses?: string;
}

export interface OutboxDeps {
  db: TonariDB;
  /** Absent (tests of the queue alone): the note is kept in the payload as is. */
  sealer?: VisitSealer;
  /** `api.post('/api/sync/push', body)`: throws ApiError / NetworkError like the client. */
  push: PushFn;
  /** Absent: report rows wait (tests of visits alone). */
  pushReport?: ReportFn;
  now?: () => number;
  random?: () => number;
  isOnline?: () => boolean;
}

export interface ItemResult {
  client_id: string;
  status: 'accepted' | 'duplicate' | 'conflict' | 'invalid' | 'forbidden';
  code?: string;
  message?: { ja?: string; en?: string };
}

const ITEM_STATUSES = new Set(['accepted', 'duplicate', 'conflict', 'invalid', 'forbidden']);

export function backoffMs(attempts: number, random: number): number {
  const exp = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1));
  // "Equal jitter": between half and the full delay, so devices don't retry in lockstep.
  return Math.round(exp / 2 + (exp / 2) * random);
}

/**
 * The wait before the next try: when the server said how long (Retry-After on 429/503, e.g.
 * database_busy), at least that long (capped) plus up to 25 % jitter, instead of our own
 * backoff; otherwise the backoff.
 */
export function retryDelayMs(attempts: number, random: number, retryAfterMs: number | null): number {
  if (retryAfterMs === null) return backoffMs(attempts, random);
  const base = Math.min(Math.max(0, retryAfterMs), RETRY_AFTER_CAP_MS);
  return Math.round(base + base * RETRY_AFTER_JITTER * random);
}

function parseResults(body: unknown): Map<string, ItemResult> | null {
  if (!body || typeof body !== 'object' || !Array.isArray((body as { results?: unknown }).results)) return null;
  const out = new Map<string, ItemResult>();
  for (const r of (body as { results: unknown[] }).results) {
    if (!r || typeof r !== 'object') continue;
    const v = r as Record<string, unknown>;
    if (typeof v.client_id === 'string' && typeof v.status === 'string' && ITEM_STATUSES.has(v.status)) {
      out.set(v.client_id, v as unknown as ItemResult);
    }
  }
  return out;
}

function describe(err: unknown): string {
  if (err instanceof ApiError) return `HTTP ${err.status}${err.code ? ` ${err.code}` : ''}`;
  if (err instanceof NetworkError) return `network: ${err.reason}`;
  return err instanceof Error ? err.message : String(err);
}

export class Outbox {
  readonly db: TonariDB;
  private readonly push: PushFn;
  private readonly pushReport: ReportFn | undefined;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly isOnline: () => boolean;
  private readonly sealer: VisitSealer | undefined;
  private listeners = new Set<(s: OutboxStatus) => void>();
  private running: Promise<void> | null = null;
  private again = false;
  private paused = false;
  private lastError: string | null = null;
  private batchSize = MAX_BATCH;
  /** Until then nothing is sent (the server's Retry-After), whatever triggers a flush. */
  private notBefore = 0;

  constructor(deps: OutboxDeps) {
    this.db = deps.db;
    this.push = deps.push;
    this.pushReport = deps.pushReport;
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
    this.isOnline = deps.isOnline ?? (() => (typeof navigator === 'undefined' ? true : navigator.onLine));
    this.sealer = deps.sealer;
  }

  /** App start: a crash mid-request left rows in "sending"; they were never confirmed. */
  async recover(): Promise<number> {
    const n = await this.db.outbox.where('state').equals('sending').modify({ state: 'pending', next_attempt_at: 0 });
    if (n) await this.notify();
    return n;
  }

  /** Queues a visit; returns the stored row. Works offline. */
  async enqueueVisit(v: NewVisit, at: Date = new Date(this.now())): Promise<OutboxRow> {
    const client_id = uuidv7(at.getTime());
    const payload: VisitMutation = {
      type: 'visit',
      operation_id: v.operation_id,
      client_id,
      household_id: v.household_id,
      outcome: v.outcome,
      device_time: isoWithOffset(at),
    };
    if (v.shelter_id) payload.shelter_id = v.shelter_id;
    else if (v.shelter_unknown) payload.shelter_unknown = true;
    const part: SealedVisitPart = {};
    if (v.note && v.note.trim()) part.note = v.note.trim();
    if (typeof v.lon === 'number' && typeof v.lat === 'number') {
      part.lon = v.lon;
      part.lat = v.lat;
    }
    const row: OutboxRow = { client_id, payload, state: 'pending', attempts: 0, next_attempt_at: 0, last_error: null, created_at: at.getTime() };
    await this.store(row, part);
    return row;
  }

  /** Queues a leader's report (#18); returns the stored row. Works offline. */
  async enqueueReport(r: NewReport, at: Date = new Date(this.now())): Promise<OutboxRow> {
    const client_id = uuidv7(at.getTime());
    const payload: VcReportMutation = {
      type: 'vc_report',
      operation_id: r.operation_id,
      client_id,
      dispatch_id: r.dispatch_id,
      label: r.label,
      outcome: r.outcome,
      people: r.people,
      hours: r.hours,
      device_time: isoWithOffset(at),
      injuries: r.injuries,
      returns: r.returns,
    };
    const part: SealedReportPart = {};
    for (const k of ['work_done', 'remaining', 'near_misses'] as const) {
      const text = r[k]?.trim();
      if (text) part[k] = text;
    }
    const row: OutboxRow = { client_id, payload, state: 'pending', attempts: 0, next_attempt_at: 0, last_error: null, created_at: at.getTime() };
    await this.store(row, part);
    return row;
  }

  /** Seals the personal part (or, without a vault, keeps it in the payload) and adds the row. */
  private async store(row: OutboxRow, part: SealedPart): Promise<void> {
    if (Object.keys(part).length > 0) {
      // With a vault the personal part is stored only as ciphertext (throws while locked:
      // the recording screens are reachable only unlocked).
      if (this.sealer) row.sealed = await this.sealer.sealRecordPart(part, row.client_id);
      else Object.assign(row.payload, part);
    }
    await this.db.outbox.add(row);
    await this.notify();
  }

  get needsSignIn(): boolean {
    return this.paused;
  }

  /** After a successful sign-in: lift the 401 stop and send. */
  async resume(): Promise<void> {
    if (this.paused) {
      this.paused = false;
      this.lastError = null;
      await this.notify();
    }
    await this.flush();
  }

  /** Sends every due row; concurrent calls coalesce into one run (plus one re-run). */
  flush(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.runOnce();
        } while (this.again && !this.paused);
      } finally {
        this.running = null;
        await this.notify();
      }
    })();
    return this.running;
  }

  /** Rows with a sealed part can be sent only while the sealer can open them; reports only with a route. */
  private sendable(r: OutboxRow): boolean {
    return (!r.sealed || !!this.sealer?.unlocked) && (r.payload.type === 'visit' || this.pushReport !== undefined);
  }

  /** The payload as sent: the sealed part opened and merged back in. */
  async openPayload(r: OutboxRow): Promise<OutboxMutation> {
    if (!r.sealed) return r.payload;
    if (!this.sealer) throw new Error('sealed row without a sealer');
    return { ...r.payload, ...(await this.sealer.openRecordPart(r)) } as OutboxMutation;
  }

  /**
   * The next request's rows: the oldest due row, and with a visit every due visit up to the batch
   * size (one /api/sync/push); a report goes alone (one report route call).
   */
  private async due(limit: number): Promise<OutboxRow[]> {
    const t = this.now();
    const due = (r: OutboxRow) => (r.state === 'pending' || r.state === 'failed') && r.next_attempt_at <= t && this.sendable(r);
    const first = await this.db.outbox.orderBy('created_at').filter(due).first();
    if (!first || first.payload.type !== 'visit') return first ? [first] : [];
    return this.db.outbox
      .orderBy('created_at')
      .filter((r) => due(r) && r.payload.type === 'visit')
      .limit(limit)
      .toArray();
  }

  /** Sends one claimed unit; the answer in /api/sync/push's shape (a report's read as one item's result). */
  private async send(payloads: OutboxMutation[]): Promise<unknown> {
    const first = payloads[0];
    if (first?.type !== 'vc_report') return this.push({ mutations: payloads as VisitMutation[] });
    const { type: _type, operation_id: _op, dispatch_id, label: _label, ...body } = first;
    try {
      await this.pushReport!(dispatch_id, body);
      return { results: [{ client_id: first.client_id, status: 'accepted' }] };
    } catch (err) {
      // A refusal of this report (the server's problem: stable code, words) is its item result;
      // what a resend may fix (401, 408, 413, 429, 5xx, network) stays a whole-request error.
      if (!(err instanceof ApiError) || err.status >= 500 || [401, 408, 413, 429].includes(err.status)) throw err;
      const status = err.status === 403 ? 'forbidden' : err.status === 409 && err.code === 'vc_report_conflict' ? 'conflict' : 'invalid';
      return { results: [{ client_id: first.client_id, status, code: err.code, message: err.problem.message }] };
    }
  }

  private async runOnce(): Promise<void> {
    while (!this.paused && this.isOnline() && this.now() >= this.notBefore) {
      // Read and mark "sending" in ONE transaction: another tab flushing at the same moment
      // cannot claim the same rows. A crash from here on leaves "sending", which recover() resets.
      const claimed = await this.db.transaction('rw', this.db.outbox, async () => {
        const due = await this.due(this.batchSize);
        for (const r of due) await this.db.outbox.update(r.client_id, { state: 'sending', attempts: r.attempts + 1 });
        return due;
      });
      if (claimed.length === 0) return;
      await this.notify();
      // Open sealed parts outside any IndexedDB transaction (WebCrypto would end it).
      const rows: OutboxRow[] = [];
      const payloads: OutboxMutation[] = [];
      for (const r of claimed) {
        try {
          payloads.push(await this.openPayload(r));
          rows.push(r);
        } catch (err) {
          // Locked meanwhile: wait for the unlock. Unreadable with this key: keep it, visible.
          const locked = !this.sealer?.unlocked;
          await this.db.outbox.update(r.client_id, locked
            ? { state: 'pending', next_attempt_at: 0 }
            : { state: 'dead', last_error: `note_unreadable: ${err instanceof Error ? err.name : String(err)}` });
        }
      }
      if (rows.length === 0) continue;
      const ids = rows.map((r) => r.client_id);
      let body: unknown;
      try {
        body = await this.send(payloads);
      } catch (err) {
        const stop = await this.onBatchError(rows, err);
        if (stop) return;
        continue;
      }
      const results = parseResults(body);
      if (!results) {
        // 2xx but not our answer: nothing is known to be stored.
        await this.retryLater(rows, 'unexpected response');
        return;
      }
      this.lastError = null;
      await this.db.transaction('rw', this.db.outbox, async () => {
        for (const r of rows) {
          const res = results.get(r.client_id);
          const attempts = r.attempts + 1;
          if (!res) {
            await this.db.outbox.update(r.client_id, { state: 'pending', next_attempt_at: this.now() + backoffMs(attempts, this.random()), last_error: 'no result for item' });
          } else if (res.status === 'accepted' || res.status === 'duplicate') {
            await this.db.outbox.delete(r.client_id);
          } else {
            const msg = res.message?.ja ?? res.message?.en ?? res.code ?? res.status;
            await this.db.outbox.update(r.client_id, { state: res.status === 'conflict' ? 'conflict' : 'dead', last_error: `${res.status}${res.code ? ` ${res.code}` : ''}: ${msg}` });
          }
        }
      });
      await this.notify();
      if (ids.some((id) => !results.has(id))) return; // items without a result wait for their backoff
    }
  }

  /** Returns true when this run should stop. */
  private async onBatchError(rows: OutboxRow[], err: unknown): Promise<boolean> {
    if (err instanceof ApiError && err.status === 401) {
      this.paused = true;
      this.lastError = describe(err);
      await this.setRows(rows, { state: 'pending', next_attempt_at: 0, last_error: this.lastError });
      return true;
    }
    if (err instanceof ApiError && err.status === 413) {
      if (rows.length > 1) {
        this.batchSize = Math.max(1, Math.floor(rows.length / 2));
        await this.setRows(rows, { state: 'pending', next_attempt_at: 0, last_error: describe(err) });
        return false;
      }
      await this.setRows(rows, { state: 'dead', last_error: describe(err) });
      return false;
    }
    const transient =
      err instanceof NetworkError || (err instanceof ApiError && (err.status >= 500 || err.status === 429 || err.status === 408));
    if (transient) {
      const told = err instanceof ApiError && (err.status === 503 || err.status === 429) && err.retryAfter !== null;
      if (told) {
        // The server is busy and said for how long: the whole queue waits, not just this batch.
        const delay = retryDelayMs(0, this.random(), err.retryAfter! * 1000);
        this.notBefore = this.now() + delay;
        await this.retryLater(rows, describe(err), delay);
      } else {
        await this.retryLater(rows, describe(err));
      }
      return true;
    }
    // Other whole-batch 4xx: not stored, not obviously fixable by retrying soon.
    this.lastError = describe(err);
    await this.setRows(rows, { state: 'failed', next_attempt_at: this.now() + FAILED_RETRY_MS, last_error: this.lastError });
    return true;
  }

  /** Back to pending, due after `delay` (the server's Retry-After) or else each row's own backoff. */
  private async retryLater(rows: OutboxRow[], error: string, delay: number | null = null): Promise<void> {
    this.lastError = error;
    const t = this.now();
    await this.db.transaction('rw', this.db.outbox, async () => {
      for (const r of rows) {
        const wait = delay ?? backoffMs(r.attempts + 1, this.random());
        await this.db.outbox.update(r.client_id, { state: 'pending', next_attempt_at: t + wait, last_error: error });
      }
    });
    await this.notify();
  }

  private async setRows(rows: OutboxRow[], changes: Partial<OutboxRow>): Promise<void> {
    await this.db.transaction('rw', this.db.outbox, async () => {
      for (const r of rows) await this.db.outbox.update(r.client_id, changes);
    });
    await this.notify();
  }

  /** Makes every waiting row due now (the user pressed "send now", or the network came back). */
  async retryNow(): Promise<void> {
    await this.db.outbox.where('state').anyOf('pending', 'failed').modify({ next_attempt_at: 0 });
    await this.flush();
  }

  async list(states: OutboxState[]): Promise<OutboxRow[]> {
    return this.db.outbox.where('state').anyOf(states).sortBy('created_at');
  }

  /**
   * Rows for export and the history screen: the sealed note/position opened where possible
   * (and the ciphertext dropped); `still_sealed` marks rows that could not be opened (locked).
   */
  async listOpened(states: OutboxState[]): Promise<OpenedRow[]> {
    const out: OpenedRow[] = [];
    for (const r of await this.list(states)) {
      const { sealed, ...rest } = r;
      if (!sealed) {
        out.push(rest);
        continue;
      }
      try {
        out.push({ ...rest, payload: await this.openPayload(r) });
      } catch {
        out.push({ ...rest, still_sealed: true });
      }
    }
    return out;
  }

  async status(): Promise<OutboxStatus> {
    const rows = await this.db.outbox.toArray();
    const count = (s: OutboxState[]) => rows.filter((r) => s.includes(r.state)).length;
    return {
      waiting: count(['pending', 'sending', 'failed']),
      conflict: count(['conflict']),
      dead: count(['dead']),
      sending: this.running !== null,
      needsSignIn: this.paused,
      lastError: this.lastError,
    };
  }

  /**
   * Drops a record the server refused (dead) or flagged (conflict), after the user confirmed it
   * on screen. Waiting records cannot be discarded: they may still be delivered.
   */
  async discard(clientId: string): Promise<boolean> {
    const gone = await this.db.transaction('rw', this.db.outbox, async () => {
      const r = await this.db.outbox.get(clientId);
      if (!r || (r.state !== 'dead' && r.state !== 'conflict')) return false;
      await this.db.outbox.delete(clientId);
      return true;
    });
    await this.notify();
    return gone;
  }

  subscribe(fn: (s: OutboxStatus) => void): () => void {
    this.listeners.add(fn);
    void this.status().then(fn);
    return () => this.listeners.delete(fn);
  }

  private async notify(): Promise<void> {
    if (this.listeners.size === 0) return;
    const s = await this.status();
    for (const fn of this.listeners) fn(s);
  }
}

// --- export --------------------------------------------------------------------------

const CSV_COLUMNS = ['client_id', 'state', 'attempts', 'last_error', 'created_at', 'operation_id', 'household_id', 'outcome', 'device_time', 'note', 'shelter_id', 'lon', 'lat', 'still_sealed',
  // A leader's report (#18): its outcome is in `outcome`, its time in `device_time`.
  'type', 'dispatch_id', 'people', 'hours', 'injuries', 'work_done', 'remaining', 'near_misses'] as const;

function csvCell(value: unknown): string {
  const s = value === null || value === undefined ? '' : String(value);
  // Formula injection guard for spreadsheets, then RFC 4180 quoting.
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function rowsToCsv(rows: Array<OutboxRow | OpenedRow>): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of rows) {
    const p = r.payload;
    const visit = p.type === 'visit' ? p : null;
    const report = p.type === 'vc_report' ? p : null;
    const flat: Record<(typeof CSV_COLUMNS)[number], unknown> = {
      client_id: r.client_id,
      state: r.state,
      attempts: r.attempts,
      last_error: r.last_error,
      created_at: new Date(r.created_at).toISOString(),
      operation_id: p.operation_id,
      household_id: visit?.household_id,
      outcome: p.outcome,
      device_time: p.device_time,
      note: visit?.note,
      shelter_id: visit?.shelter_id,
      lon: visit?.lon,
      lat: visit?.lat,
      still_sealed: 'still_sealed' in r && r.still_sealed ? 'true' : '',
      type: p.type,
      dispatch_id: report?.dispatch_id,
      people: report?.people,
      hours: report?.hours,
      injuries: report?.injuries,
      work_done: report?.work_done,
      remaining: report?.remaining,
      near_misses: report?.near_misses,
    };
    lines.push(CSV_COLUMNS.map((c) => csvCell(flat[c])).join(','));
  }
  // BOM so Excel opens Japanese text as UTF-8.
  return '\uFEFF' + lines.join('\r\n') + '\r\n';
}

export function rowsToJson(rows: Array<OutboxRow | OpenedRow>): string {
  // Never the ciphertext: it is useless outside this device and only bloats the file.
  const items = rows.map((r) => {
    const { sealed: _sealed, ...rest } = r as OutboxRow;
    return rest;
  });
  return JSON.stringify({ exported_at: new Date().toISOString(), items }, null, 2);
}
