// Pull refresh: `GET /api/sync/pull?cursor=` brings what changed since the last pull (operations,
// assignment statuses, household details) and it is merged into every cached my-households list.
// The cursor and the lists are sealed like the rest of the cache.
import type { ApiClient } from '../api/client';
import type { MessageKey } from '../i18n';
import type { TonariDB } from '../device-db/db';
import { getSealed, putSealed } from '../vault/store';
import { vaultFor } from '../vault/vault';
import { cachedOperationIds, loadActiveOps, loadMyHouseholds, saveActiveOps, saveMyHouseholds, type Household, type Operation } from './model';

const CURSOR_KEY = 'pull:cursor';

export interface PullAnswer {
  cursor: string;
  /** Pull again now: this page did not reach the newest change (a large round comes in pages). */
  more?: boolean;
  operations: Operation[];
  assignments: Array<{ operation_id: string; household_id: string; status: string; updated_at: string }>;
  households: Array<Partial<Household> & { id: string }>;
}

export interface PullResult {
  /** Operations whose cached list changed. */
  changed: Set<string>;
  /** Operations with a household not in the cached list: fetch my-households again for the walking order. */
  refetch: Set<string>;
}

/** At most this many pages in one refresh (a round of 100,000 targets at 1,000 a page). */
const MAX_PAGES = 100;

/** Pull until the server says there is no more, each page merged into the cache as it comes (its
 * cursor saved with it, so an interrupted refresh resumes where it stopped). Throws like the API client. */
export async function pullChanges(api: Pick<ApiClient, 'get'>, db: TonariDB, now: () => number = Date.now): Promise<PullResult> {
  const result: PullResult = { changed: new Set(), refetch: new Set() };
  for (let page = 0; page < MAX_PAGES; page++) {
    const { more, changed, refetch } = await pullPage(api, db, now);
    changed.forEach((id) => result.changed.add(id));
    refetch.forEach((id) => result.refetch.add(id));
    if (!more) break;
  }
  return result;
}

/** One pull, merged into the cache. */
async function pullPage(api: Pick<ApiClient, 'get'>, db: TonariDB, now: () => number): Promise<PullResult & { more: boolean }> {
  const cursor = (await getSealed<string>(db, CURSOR_KEY))?.value ?? null;
  const answer = await api.get<PullAnswer>(`/api/sync/pull${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ''}`);
  if (!answer || typeof answer !== 'object' || typeof answer.cursor !== 'string') throw new Error('unexpected pull answer');
  const at = now();
  await vaultFor(db).touchContact().catch(() => undefined);
  const result: PullResult = { changed: new Set(), refetch: new Set() };
  const ops = new Map((answer.operations ?? []).map((o) => [o.id, o]));
  const people = new Map((answer.households ?? []).map((h) => [h.id, h]));
  for (const opId of await cachedOperationIds(db)) {
    const cached = await loadMyHouseholds(db, opId);
    if (!cached) continue;
    const data = cached.data;
    const op = ops.get(opId);
    if (op) data.operation = { ...data.operation, ...op };
    const byId = new Map(data.households.map((h) => [h.id, h]));
    for (const a of answer.assignments ?? []) {
      if (a.operation_id !== opId) continue;
      const hh = byId.get(a.household_id);
      if (!hh) {
        result.refetch.add(opId);
        continue;
      }
      if (hh.status !== a.status) result.changed.add(opId);
      hh.status = a.status;
    }
    for (const hh of data.households) {
      const fresh = people.get(hh.id);
      if (!fresh) continue;
      if (fresh.address !== undefined) hh.address = fresh.address;
      if (Array.isArray(fresh.people)) hh.people = fresh.people;
      if (typeof fresh.lon === 'number' && typeof fresh.lat === 'number') {
        hh.lon = fresh.lon;
        hh.lat = fresh.lat;
      }
      result.changed.add(opId);
    }
    // Saved "as of now": the pull confirmed everything that changed up to this moment.
    await saveMyHouseholds(db, opId, data, at);
  }
  const active = await loadActiveOps(db);
  if (active && ops.size > 0) {
    const merged = new Map(active.map((o) => [o.id, o]));
    for (const o of ops.values()) {
      if (o.status === 'active') merged.set(o.id, o);
      else merged.delete(o.id);
    }
    await saveActiveOps(db, [...merged.values()]);
  }
  await putSealed(db, CURSOR_KEY, answer.cursor);
  return { ...result, more: answer.more === true };
}

/** "3時間前の情報": how old what the screen shows is. */
export function ageText(savedAt: number, now: number = Date.now()): { key: MessageKey; n: number } {
  const minutes = Math.max(0, Math.floor((now - savedAt) / 60_000));
  if (minutes < 1) return { key: 'field.age.now', n: 0 };
  if (minutes < 60) return { key: 'field.age.minutes', n: minutes };
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return { key: 'field.age.hours', n: hours };
  return { key: 'field.age.days', n: Math.floor(hours / 24) };
}
