/// <reference lib="webworker" />
// Service worker: precaches the app shell so the PWA opens offline.
// Compiled separately (tsconfig.sw.json) because the WebWorker and DOM libs clash.
import { clientsClaim } from 'workbox-core';
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { CacheableResponsePlugin } from 'workbox-cacheable-response';
import { ExpirationPlugin } from 'workbox-expiration';
import { CacheFirst, NetworkFirst } from 'workbox-strategies';
import { inAppPath, OPEN_MESSAGE, parsePayload, RESUBSCRIBED_MESSAGE, toNotification } from './push/payload';

declare const self: ServiceWorkerGlobalScope & {
  __WB_MANIFEST: Array<{ url: string; revision: string | null } | string>;
};

// vite-plugin-pwa replaces self.__WB_MANIFEST with the built file list
// (globPatterns in vite.config.ts — including .mjs, which Workbox misses by default).
precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();

// Deep links (/households/123 …) open offline: any page navigation gets the
// cached index.html and the client router takes over. Server-owned paths are
// excluded: an /api or /schema navigation must reach the server or fail, never
// show the app shell pretending to be an API response.
registerRoute(
  new NavigationRoute(createHandlerBoundToURL('/index.html'), {
    denylist: [/^\/api(?:\/|$)/, /^\/schema/, /^\/health/],
  }),
);

// Deliberately NO runtime caching of /api (except the map tiles below): personal data must
// not sit unencrypted in Cache Storage (PRODUCT.md §3), and a cached /api/auth/me would claim a
// session that may have ended. Offline data goes through the encrypted store later.

// ---------------------------------------------------------------------------
// MAP TILES (issue #5): tiles already viewed or pre-fetched by "download my area" show offline.
// Names and messages are shared with src/map/offline.ts — keep them identical.
// ---------------------------------------------------------------------------
const TILE_CACHE_PREFIX = 'tonari-tiles-';
const BASEMAP_CACHE = 'tonari-basemap';
const META_CACHE = 'tonari-meta';
const TILE_USER_KEY = '/__tonari/tile-user';
const MSG_TILE_USER = 'tonari-tiles-user';
const MSG_TILE_CLEAR = 'tonari-tiles-clear';
const DAY = 24 * 60 * 60;

// Our vector tiles follow the disclosure rule (household points, no names, but still personal):
// they are cached per signed-in user (a hashed key the page sends, `setTileCacheUser`), other
// users' caches are dropped when the user changes, and sign-out deletes them all
// (`clearPrivateTileCaches`). With no known user nothing is cached. Network first (statuses
// change during an operation), the cache only when the network fails or is too slow.
let tileUser: string | null | undefined; // undefined: not read from META_CACHE yet
const tileStrategies = new Map<string, NetworkFirst>();

async function currentTileUser(): Promise<string | null> {
  if (tileUser === undefined) {
    const stored = await (await caches.open(META_CACHE)).match(TILE_USER_KEY);
    tileUser = stored ? (await stored.text()) || null : null;
  }
  return tileUser;
}

async function setTileUser(key: string | null): Promise<void> {
  tileUser = key;
  const meta = await caches.open(META_CACHE);
  if (key) await meta.put(TILE_USER_KEY, new Response(key));
  else await meta.delete(TILE_USER_KEY);
  for (const name of await caches.keys()) {
    if (name.startsWith(TILE_CACHE_PREFIX) && name !== `${TILE_CACHE_PREFIX}${key ?? ''}`) await caches.delete(name);
  }
}

function tileStrategy(user: string): NetworkFirst {
  let s = tileStrategies.get(user);
  if (!s) {
    s = new NetworkFirst({
      cacheName: `${TILE_CACHE_PREFIX}${user}`,
      networkTimeoutSeconds: 6,
      // Each cache belongs to one user already; `Vary: Cookie` must not hide its entries.
      matchOptions: { ignoreVary: true },
      plugins: [
        // 204 = an empty tile: worth remembering too (offline it is "nothing here", not an error).
        new CacheableResponsePlugin({ statuses: [200, 204] }),
        new ExpirationPlugin({ maxEntries: 20_000, maxAgeSeconds: 60 * DAY, purgeOnQuotaError: true }),
      ],
    });
    tileStrategies.set(user, s);
  }
  return s;
}

registerRoute(
  ({ url, request }) => url.origin === self.location.origin && url.pathname.startsWith('/api/tiles/') && request.method === 'GET',
  async (options) => {
    const user = await currentTileUser();
    return user ? tileStrategy(user).handle(options) : fetch(options.request);
  },
);

// The base map (GSI 地理院タイル by default, or the council's own server): public raster tiles
// with a `/{z}/{x}/{y}.png|jpg|webp` path on any origin. Cache first: they rarely change, and a
// phone in the field should not re-download them. Only CORS-readable 200s (opaque responses
// would each count megabytes against the quota).
const basemapStrategy = new CacheFirst({
  cacheName: BASEMAP_CACHE,
  plugins: [
    new CacheableResponsePlugin({ statuses: [200] }),
    new ExpirationPlugin({ maxEntries: 30_000, maxAgeSeconds: 90 * DAY, purgeOnQuotaError: true }),
  ],
});
registerRoute(
  ({ url, request }) =>
    request.method === 'GET' && !url.pathname.startsWith('/api/') && /\/\d+\/\d+\/\d+\.(?:png|jpe?g|webp)$/i.test(url.pathname),
  basemapStrategy,
);

self.addEventListener('message', (event) => {
  const data = event.data as { type?: string; key?: unknown } | null;
  if (!data || typeof data !== 'object') return;
  let work: Promise<void> | null = null;
  if (data.type === MSG_TILE_USER && typeof data.key === 'string' && /^[0-9a-f]{8,64}$/.test(data.key)) work = setTileUser(data.key);
  else if (data.type === MSG_TILE_CLEAR) work = setTileUser(null);
  if (!work) return;
  const reply = () => event.ports[0]?.postMessage({ ok: true });
  event.waitUntil(work.then(reply, reply));
});

// Take over immediately. Lazily loaded chunks exist now (MapLibre, staff screens): a page left
// open across an update may fail to load one; it then shows its "could not load" note (op-map:
// "map.failed") and a reload fixes it — better than field phones running an old worker for days.
void self.skipWaiting();
clientsClaim();

// Background Sync (Chromium): the page registers the tag when it queues a visit; when
// connectivity returns the browser wakes us and we ask any open page to flush its
// outbox (the page owns the queue: it can read the CSRF cookie, the worker cannot).
// Browsers without it rely on the page's own triggers (start, `online`, a timer).
const SYNC_TAG = 'tonari-outbox';
const FLUSH_MESSAGE = 'tonari-outbox-flush';

interface SyncEvent extends ExtendableEvent {
  readonly tag: string;
}

self.addEventListener('sync', (event) => {
  const ev = event as SyncEvent;
  if (ev.tag !== SYNC_TAG) return;
  ev.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((clients) => {
      for (const c of clients) c.postMessage(FLUSH_MESSAGE);
    }),
  );
});

// ---------------------------------------------------------------------------
// Web Push. Payloads carry no personal data (server/push/send.py); a drill is always shown
// with 【訓練】 (PRODUCT.md §3). A tap opens the notification's screen, in an open window of the
// app if there is one.
// ---------------------------------------------------------------------------

self.addEventListener('push', (event) => {
  const shown = toNotification(parsePayload(event.data?.text()));
  event.waitUntil(self.registration.showNotification(shown.title, shown));
});

/** Focus an open window of the app and let its router show `url`; else open a new window. */
async function openScreen(url: string): Promise<void> {
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const mine = windows.find((c) => new URL(c.url).origin === self.location.origin);
  if (mine) {
    mine.postMessage({ type: OPEN_MESSAGE, url });
    await mine.focus().catch(() => undefined);
    return;
  }
  await self.clients.openWindow(url);
}

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const data = event.notification.data as { url?: unknown } | null;
  const opening = openScreen(inAppPath(data?.url));
  try {
    event.waitUntil(opening);
  } catch {
    // An event the browser did not dispatch itself (a test's) has no waitUntil; it still opens.
  }
});

interface PushSubscriptionChangeEvent extends ExtendableEvent {
  readonly oldSubscription: PushSubscription | null;
}

// The push service replaced or expired the subscription: subscribe again with the same key and
// ask open pages to register it (the page sends the CSRF header; with no page open, the next
// start registers it). The old endpoint answers 404/410 to the server, which then deletes it.
self.addEventListener('pushsubscriptionchange', (event) => {
  const ev = event as PushSubscriptionChangeEvent;
  const key = ev.oldSubscription?.options.applicationServerKey ?? null;
  ev.waitUntil(
    (key ? self.registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key }) : Promise.resolve(null))
      .catch(() => null)
      .then(() => self.clients.matchAll({ type: 'window', includeUncontrolled: true }))
      .then((clients) => {
        for (const c of clients) c.postMessage({ type: RESUBSCRIBED_MESSAGE });
      }),
  );
});
