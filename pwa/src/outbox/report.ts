/**
 * Tells the server what this device still holds per operation (counts only: waiting, refused),
 * so staff closing an operation are warned about devices with records for it (#17; the server's
 * side is server/operations/api_devices.py). Sent when the counts change and the device is
 * online; a device that never held anything never sends.
 */
import type { ApiClient } from '../api/client';
import { loadLastKnownUser } from '../auth/last-known';
import type { OutboxRow } from '../device-db/db';
import type { Outbox } from './outbox';

const SENT_KEY = 'tonari.unsentReported';
/** Roles whose devices keep field records (the server's FIELD guard); others never report. */
const FIELD_ROLES = new Set(['admin', 'staff', 'coordinator', 'commissioner', 'watcher']);

export interface UnsentReport {
  operations: Array<{ operation_id: string; waiting: number; refused: number }>;
}

/** Counts per operation, in a stable order (so equal reports compare equal). */
export function unsentReport(rows: readonly OutboxRow[]): UnsentReport {
  const per = new Map<string, { waiting: number; refused: number }>();
  for (const r of rows) {
    const c = per.get(r.payload.operation_id) ?? { waiting: 0, refused: 0 };
    if (r.state === 'dead' || r.state === 'conflict') c.refused += 1;
    else c.waiting += 1;
    per.set(r.payload.operation_id, c);
  }
  return { operations: [...per].sort(([a], [b]) => a.localeCompare(b)).map(([operation_id, c]) => ({ operation_id, ...c })) };
}

function lastSent(): string {
  try {
    return localStorage.getItem(SENT_KEY) ?? JSON.stringify({ operations: [] });
  } catch {
    return '';
  }
}

/** Starts reporting; returns a stop function. */
export function startUnsentReports(outbox: Outbox, api: Pick<ApiClient, 'request'>, isOnline: () => boolean = () => navigator.onLine): () => void {
  let busy = false;
  let again = false;
  async function report(): Promise<void> {
    if (busy) {
      again = true;
      return;
    }
    const role = loadLastKnownUser()?.role;
    if (!role || !FIELD_ROLES.has(role) || !isOnline()) return;
    busy = true;
    try {
      const body = JSON.stringify(unsentReport(await outbox.list(['pending', 'sending', 'failed', 'dead', 'conflict'])));
      if (body !== lastSent()) {
        await api.request('PUT', '/api/devices/unsent', JSON.parse(body));
        try {
          localStorage.setItem(SENT_KEY, body);
        } catch {
          // Not remembered: the next change sends again, which is harmless.
        }
      }
    } catch {
      // Offline, signed out, or the database is gone: the next change tries again.
    } finally {
      busy = false;
    }
    if (again) {
      again = false;
      void report();
    }
  }
  const off = outbox.subscribe(() => void report());
  const onOnline = () => void report();
  window.addEventListener('online', onOnline);
  return () => {
    off();
    window.removeEventListener('online', onOnline);
  };
}
