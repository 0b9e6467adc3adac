/**
 * Page side of the map's offline store (the service worker, src/sw.ts, does the caching):
 * - `setTileCacheUser(userId)`: our vector tiles are private (they follow the disclosure rule),
 *   so the worker keeps them in a cache per signed-in user and drops other users' caches;
 * - `clearPrivateTileCaches()`: for the sign-out flow (and wipes): removes every user's tiles;
 * - `downloadArea(...)`: pre-fetches the tiles around my households through the worker, with
 *   progress, size and cancel.
 */
import { tilesForBounds, tileUrl, type LngLatBounds } from './tiles';

/** Shared with sw.ts (which cannot import DOM code): keep the strings identical. */
export const TILE_CACHE_PREFIX = 'tonari-tiles-';
export const BASEMAP_CACHE = 'tonari-basemap';
export const MSG_TILE_USER = 'tonari-tiles-user';
export const MSG_TILE_CLEAR = 'tonari-tiles-clear';

/** A short, non-reversible cache key for a user id (no ids in cache names). */
export async function userKey(userId: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`tonari-tiles:${userId}`));
  return [...new Uint8Array(digest).slice(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Posts a message to the active worker and waits for its reply (or gives up after `ms`). */
async function ask(message: Record<string, unknown>, ms = 3000): Promise<boolean> {
  const sw = typeof navigator !== 'undefined' ? navigator.serviceWorker : undefined;
  const target = sw?.controller ?? (await sw?.getRegistration().catch(() => undefined))?.active;
  if (!target) return false;
  return new Promise<boolean>((resolve) => {
    const channel = new MessageChannel();
    const timer = setTimeout(() => resolve(false), ms);
    channel.port1.onmessage = () => {
      clearTimeout(timer);
      resolve(true);
    };
    target.postMessage(message, [channel.port2]);
  });
}

/** Tells the worker whose tiles it is caching from now on (call when signed in and online). */
export async function setTileCacheUser(userId: string): Promise<boolean> {
  return ask({ type: MSG_TILE_USER, key: await userKey(userId) });
}

/**
 * Removes every user's cached vector tiles (personal data) and makes the worker forget the user.
 * For the sign-out flow. The base map (public) stays. Safe to call without a worker.
 */
export async function clearPrivateTileCaches(): Promise<void> {
  await ask({ type: MSG_TILE_CLEAR }).catch(() => false);
  if (typeof caches === 'undefined') return;
  for (const name of await caches.keys()) {
    if (name.startsWith(TILE_CACHE_PREFIX)) await caches.delete(name);
  }
}

export interface AreaSource {
  /** Absolute `{z}/{x}/{y}` template. */
  template: string;
  minZoom: number;
  maxZoom: number;
  /** Cross-origin base maps are fetched without cookies. */
  credentials: RequestCredentials;
}

export interface DownloadProgress {
  done: number;
  total: number;
  failed: number;
  bytes: number;
}

export const DOWNLOAD_MIN_ZOOM = 13;
export const DOWNLOAD_MAX_ZOOM = 17;
/** Beyond this the area is not "around my households" any more (and would fill the phone). */
export const DOWNLOAD_MAX_TILES = 4000;

/** Every URL to fetch for an area, de-duplicated, low zooms first. */
export function areaUrls(bounds: LngLatBounds, sources: AreaSource[]): Array<{ url: string; credentials: RequestCredentials }> {
  const seen = new Set<string>();
  const out: Array<{ url: string; credentials: RequestCredentials }> = [];
  for (const s of sources) {
    if (s.maxZoom < s.minZoom) continue;
    for (const t of tilesForBounds(bounds, s.minZoom, s.maxZoom)) {
      const url = tileUrl(s.template, t);
      if (seen.has(url)) continue;
      seen.add(url);
      out.push({ url, credentials: s.credentials });
    }
  }
  return out;
}

/**
 * Fetches every URL (a few at a time) so the service worker stores it. Resolves with the final
 * progress; `signal` stops it early (the tiles fetched so far stay cached).
 */
export async function downloadArea(
  urls: Array<{ url: string; credentials: RequestCredentials }>,
  onProgress: (p: DownloadProgress) => void,
  signal: AbortSignal,
  fetchImpl: typeof fetch = (...args) => fetch(...args),
  concurrency = 4,
): Promise<DownloadProgress> {
  const p: DownloadProgress = { done: 0, total: urls.length, failed: 0, bytes: 0 };
  let next = 0;
  async function worker(): Promise<void> {
    while (!signal.aborted && next < urls.length) {
      const item = urls[next++]!;
      try {
        const res = await fetchImpl(item.url, { credentials: item.credentials, mode: 'cors', signal });
        if (res.ok) {
          // Read first, then add: `p.bytes += await …` would race with the other workers.
          const size = (await res.arrayBuffer()).byteLength;
          p.bytes += size;
          p.done++;
        } else {
          p.failed++;
        }
      } catch {
        if (signal.aborted) return;
        p.failed++;
      }
      onProgress({ ...p });
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, urls.length) }, worker));
  return { ...p };
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${Math.max(0, Math.round(bytes / 1e3))} KB`;
}
