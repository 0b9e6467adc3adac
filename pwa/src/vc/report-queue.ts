// The leader's report when the phone is offline: kept on the device under its client id and sent
// again when the connection is back. The server stores a client id once (a resend answers 200 with
// the stored report), so a report that did reach the server before the phone lost its answer is
// not stored twice. Rows leave the queue only after a 2xx, or a 4xx that a resend cannot change
// (shown to the leader), like the visit outbox.
import { ApiError, NetworkError } from '../api/errors';
import type { ApiClient } from '../api/client';

export interface VcReport {
  client_id: string;
  outcome: 'done' | 'continued';
  people: number;
  hours: number;
  device_time: string;
  work_done: string | null;
  remaining: string | null;
  injuries: number;
  near_misses: string | null;
  returns: { code: string; returned: number }[];
}

interface QueuedReport {
  dispatch_id: string;
  body: VcReport;
}

export const QUEUE_KEY = 'tonari.vc.reports';

function read(storage: Storage): QueuedReport[] {
  try {
    const parsed: unknown = JSON.parse(storage.getItem(QUEUE_KEY) ?? '[]');
    return Array.isArray(parsed) ? (parsed as QueuedReport[]) : [];
  } catch {
    return [];
  }
}

function write(storage: Storage, rows: QueuedReport[]): void {
  if (rows.length) storage.setItem(QUEUE_KEY, JSON.stringify(rows));
  else storage.removeItem(QUEUE_KEY);
}

export function queuedReports(storage: Storage = localStorage): QueuedReport[] {
  return read(storage);
}

const reportPath = (dispatchId: string) => `/api/vc/dispatches/${encodeURIComponent(dispatchId)}/report`;

/**
 * Sends one report; offline (or a 5xx / network failure) it is queued under its client id and
 * 'queued' is returned. A refusal (4xx) comes back as the error for the form to show.
 */
export async function sendReport(
  ctx: { api: Pick<ApiClient, 'post'> },
  dispatchId: string,
  body: VcReport,
  storage: Storage = localStorage,
): Promise<'sent' | 'queued' | ApiError | NetworkError> {
  try {
    await ctx.api.post(reportPath(dispatchId), body);
    write(storage, read(storage).filter((r) => r.body.client_id !== body.client_id));
    return 'sent';
  } catch (err) {
    if (err instanceof NetworkError || (err instanceof ApiError && err.status >= 500)) {
      const rows = read(storage).filter((r) => r.body.client_id !== body.client_id);
      write(storage, [...rows, { dispatch_id: dispatchId, body }]);
      return 'queued';
    }
    if (err instanceof ApiError) return err;
    throw err;
  }
}

/** Sends what is queued, oldest first; returns how many reached the server. Stops at the first network failure. */
export async function flushReports(ctx: { api: Pick<ApiClient, 'post'> }, storage: Storage = localStorage): Promise<number> {
  let sent = 0;
  for (const row of read(storage)) {
    try {
      await ctx.api.post(reportPath(row.dispatch_id), row.body);
      sent += 1;
    } catch (err) {
      if (err instanceof NetworkError || (err instanceof ApiError && (err.status >= 500 || err.status === 401))) break;
      // Refused for good (e.g. 409: another report for this dispatch): dropped like a dead outbox row.
    }
    write(storage, read(storage).filter((r) => r.body.client_id !== row.body.client_id));
  }
  return sent;
}

/** Flushes now and whenever the browser says it is online again; returns the stop function. */
export function startReportQueue(ctx: { api: Pick<ApiClient, 'post'> }, onSent: (n: number) => void): () => void {
  const run = () => void flushReports(ctx).then((n) => n && onSent(n));
  window.addEventListener('online', run);
  run();
  return () => window.removeEventListener('online', run);
}
