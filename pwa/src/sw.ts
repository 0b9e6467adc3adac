/// <reference lib="webworker" />
// Service worker: precaches the app shell so the PWA opens offline.
// Compiled separately (tsconfig.sw.json) because the WebWorker and DOM libs clash.
import { clientsClaim } from 'workbox-core';
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';

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

// Deliberately NO runtime caching of /api: personal data must not sit unencrypted
// in Cache Storage (PRODUCT.md §3), and a cached /api/auth/me would claim a
// session that may have ended. Offline data goes through the encrypted store later.

// Take over immediately: the shell has no lazily loaded chunks yet, so an old page
// under a new worker cannot request an asset that no longer exists.
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
// PUSH (later issue): `push` and `notificationclick` handlers go here.
// Payloads must carry no personal data beyond what the recipient may see, and
// drill notifications are titled 【訓練】 (PRODUCT.md §3).
// ---------------------------------------------------------------------------
