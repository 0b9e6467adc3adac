// Wires the outbox into the running app: triggers (start, `online`, a timer, Background
// Sync via the service worker), persistent storage, and file export.
import type { ApiClient } from '../api/client';
import { TonariDB } from '../device-db/db';
import { vaultFor } from '../vault/vault';
import { Outbox, rowsToCsv, rowsToJson } from './outbox';

export const SYNC_TAG = 'tonari-outbox';
export const FLUSH_MESSAGE = 'tonari-outbox-flush';
const TIMER_MS = 15_000;

export function createOutbox(api: Pick<ApiClient, 'post'>, db: TonariDB = new TonariDB()): Outbox {
  const vault = vaultFor(db);
  let outbox: Outbox | null = null;
  // Unlocking makes the rows with a sealed note sendable: send them now.
  vault.onChange(() => {
    if (vault.unlocked) void outbox?.flush().catch(() => undefined);
  });
  // A 2xx from our server: contact, so the no-contact wipe clock restarts.
  const contact = async <T>(res: T): Promise<T> => {
    await vault.touchContact().catch(() => undefined);
    return res;
  };
  outbox = new Outbox({
    db,
    sealer: vault,
    push: async (body) => contact(await api.post('/api/sync/push', body)),
    pushReport: async (dispatchId, body) => contact(await api.post(`/api/vc/dispatches/${encodeURIComponent(dispatchId)}/report`, body)),
  });
  return outbox;
}

/** Starts the triggers; returns a stop function (tests, hot reload). */
export function startOutbox(outbox: Outbox): () => void {
  const flush = () => void outbox.flush().catch((err: unknown) => console.warn('outbox flush failed', err));
  const onOnline = () => void outbox.retryNow().catch((err: unknown) => console.warn('outbox retry failed', err));
  const onMessage = (ev: MessageEvent) => {
    if (ev.data === FLUSH_MESSAGE) flush();
  };
  // N days without contact: cached personal data goes before anything is shown.
  void vaultFor(outbox.db)
    .wipeIfNoContact()
    .catch(() => false)
    .then(() => outbox.recover())
    .then(flush)
    .catch((err: unknown) => console.warn('outbox unavailable (IndexedDB?)', err));
  window.addEventListener('online', onOnline);
  const timer = setInterval(flush, TIMER_MS);
  navigator.serviceWorker?.addEventListener('message', onMessage);
  return () => {
    window.removeEventListener('online', onOnline);
    clearInterval(timer);
    navigator.serviceWorker?.removeEventListener('message', onMessage);
  };
}

interface SyncRegistration {
  sync?: { register(tag: string): Promise<void> };
}

/** Asks the browser to wake us when connectivity returns (Chromium only; others use the triggers above). */
export async function requestBackgroundSync(): Promise<boolean> {
  try {
    if (!('serviceWorker' in navigator)) return false;
    const reg = (await navigator.serviceWorker.getRegistration()) as (ServiceWorkerRegistration & SyncRegistration) | undefined;
    if (!reg?.sync) return false;
    await reg.sync.register(SYNC_TAG);
    return true;
  } catch {
    return false;
  }
}

let persistAsked = false;

/** Asks once per page load for persistent storage so the browser does not evict the queue. */
export async function ensurePersistentStorage(): Promise<boolean | null> {
  if (persistAsked || !navigator.storage?.persist) return null;
  persistAsked = true;
  try {
    if (await navigator.storage.persisted?.()) return true;
    return await navigator.storage.persist();
  } catch {
    return null;
  }
}

export async function storageEstimate(): Promise<{ usage: number; quota: number; persisted: boolean } | null> {
  if (!navigator.storage?.estimate) return null;
  try {
    const e = await navigator.storage.estimate();
    const persisted = (await navigator.storage.persisted?.()) ?? false;
    return { usage: e.usage ?? 0, quota: e.quota ?? 0, persisted };
  } catch {
    return null;
  }
}

export async function downloadUnsent(outbox: Outbox, format: 'json' | 'csv'): Promise<number> {
  // Notes are opened while unlocked (the outbox page is reachable only then); otherwise marked still_sealed.
  const rows = await outbox.listOpened(['pending', 'sending', 'failed', 'dead', 'conflict']);
  const text = format === 'json' ? rowsToJson(rows) : rowsToCsv(rows);
  const blob = new Blob([text], { type: format === 'json' ? 'application/json' : 'text/csv;charset=utf-8' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = `tonari-unsent-${new Date().toISOString().replace(/[:.]/g, '-')}.${format}`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return rows.length;
}
