import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { saveLastKnownUser } from '../auth/last-known';
import { NetworkError } from '../api/errors';
import { TonariDB } from '../device-db/db';
import { Outbox } from './outbox';
import { startUnsentReports, unsentReport } from './report';

let db: TonariDB;
let outbox: Outbox;
let seq = 0;
const until = async (cond: () => boolean, what = 'condition') => {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond(), what).toBe(true);
};
const user = (role: string) => ({ id: 'u', login: 'x', display_name: 'x', role, district_ids: [], tenant: { id: 't', name: 't', municipality_code: '08216', time_zone: 'Asia/Tokyo' } }) as never;

beforeEach(() => {
  localStorage.clear();
  db = new TonariDB(`report-${++seq}`);
  outbox = new Outbox({ db, push: () => Promise.reject(new NetworkError('offline', 'unreachable')), isOnline: () => false });
});
afterEach(async () => {
  db.close();
  await TonariDB.delete(db.name);
});

describe('unsent reports', () => {
  it('count waiting and refused records per operation', async () => {
    await outbox.enqueueVisit({ operation_id: 'op-b', household_id: 'h1', outcome: 'safe' });
    const r = await outbox.enqueueVisit({ operation_id: 'op-a', household_id: 'h2', outcome: 'rescue' });
    await outbox.enqueueVisit({ operation_id: 'op-a', household_id: 'h3', outcome: 'safe' });
    await db.outbox.update(r.client_id, { state: 'dead', last_error: 'invalid operation_not_active: x' });
    expect(unsentReport(await db.outbox.toArray())).toEqual({ operations: [
      { operation_id: 'op-a', waiting: 1, refused: 1 }, { operation_id: 'op-b', waiting: 1, refused: 0 }] });
  });

  it('tell the server when the counts change, once, and never for a volunteer', async () => {
    saveLastKnownUser(user('watcher'));
    const request = vi.fn(async () => ({}));
    const stop = startUnsentReports(outbox, { request } as never, () => true);
    await outbox.enqueueVisit({ operation_id: 'op-a', household_id: 'h1', outcome: 'safe' });
    await until(() => request.mock.calls.length === 1, 'first report');
    expect(request).toHaveBeenCalledWith('PUT', '/api/devices/unsent', { operations: [{ operation_id: 'op-a', waiting: 1, refused: 0 }] });
    // The same counts again: nothing sent.
    await outbox.retryNow();
    await new Promise((r) => setTimeout(r, 50));
    expect(request).toHaveBeenCalledTimes(1);
    stop();

    saveLastKnownUser(user('vc_volunteer'));
    const other = vi.fn(async () => ({}));
    const stop2 = startUnsentReports(outbox, { request: other } as never, () => true);
    await outbox.enqueueVisit({ operation_id: 'op-a', household_id: 'h2', outcome: 'safe' });
    await new Promise((r) => setTimeout(r, 50));
    expect(other).not.toHaveBeenCalled(); // no 403s from a role that keeps no field records
    stop2();
  });
});
