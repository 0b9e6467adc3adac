// Shelters for 避難済: the list is public (not personal) but kept in the sealed cache with the rest,
// so one rule covers the whole `cache` table. Nearest open shelters first.
import type { ApiClient } from '../api/client';
import type { TonariDB } from '../device-db/db';
import { getSealed, putSealed } from '../vault/store';

export interface Shelter {
  id: string;
  name: string;
  kind: string;
  address: string | null;
  lon: number;
  lat: number;
  is_open: boolean;
}

const KEY = 'shelters';

/** Online: fetch and cache; offline or failing: the cached list (or null). */
export async function loadShelters(api: Pick<ApiClient, 'get'>, db: TonariDB | undefined, online: boolean): Promise<Shelter[] | null> {
  if (online) {
    try {
      const list = await api.get<Shelter[]>('/api/shelters');
      if (Array.isArray(list)) {
        if (db) await putSealed(db, KEY, list);
        return list;
      }
    } catch {
      // fall through to the cache
    }
  }
  return db ? ((await getSealed<Shelter[]>(db, KEY))?.value ?? null) : null;
}

/** Great-circle distance in km (haversine): plenty for "which shelter is nearer". */
export function distanceKm(aLon: number, aLat: number, bLon: number, bLat: number): number {
  const rad = Math.PI / 180;
  const dLat = (bLat - aLat) * rad;
  const dLon = (bLon - aLon) * rad;
  const s = Math.sin(dLat / 2) ** 2 + Math.cos(aLat * rad) * Math.cos(bLat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.sqrt(s));
}

/** Open shelters first, each group nearest first (by name when the household has no position). */
export function sortShelters(list: Shelter[], from: { lon?: number; lat?: number }): Array<Shelter & { km: number | null }> {
  const withKm = list.map((s) => ({
    ...s,
    km: typeof from.lon === 'number' && typeof from.lat === 'number' ? distanceKm(from.lon, from.lat, s.lon, s.lat) : null,
  }));
  return withKm.sort((a, b) => {
    if (a.is_open !== b.is_open) return a.is_open ? -1 : 1;
    if (a.km !== null && b.km !== null && a.km !== b.km) return a.km - b.km;
    return a.name.localeCompare(b.name, 'ja');
  });
}
