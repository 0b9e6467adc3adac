import './styles.css';
import { createApiClient } from './api/client';
import { onSignOut, PASSWORD_CHANGE_PATH } from './auth/session';
import { consoleRoutes } from './console/routes';
import { fieldRoutes } from './field/routes';
import { initLang, onLangChange } from './i18n';
import { startUnsentReports } from './outbox/report';
import { createOutbox, startOutbox } from './outbox/runtime';
import { browserPushManager, ensurePush, forgetPush } from './push/push';
import { OPEN_MESSAGE, RESUBSCRIBED_MESSAGE, inAppPath } from './push/payload';
import { defaultPushDeps } from './push/ui';
import { createRouter } from './router';
import { staffRoutes } from './staff/routes';
import { mountHeader } from './ui/header';
import { mountOutboxStatus } from './ui/outbox-status';
import { vcRoutes } from './vc/routes';

initLang();

const header = document.getElementById('app-header')!;
const main = document.getElementById('main')!;

// The router is made below; the API client only needs it once a request was refused.
let goTo: (path: string) => void = () => undefined;
const api = createApiClient({ onPasswordChangeRequired: () => goTo(PASSWORD_CHANGE_PATH) });
const outbox = createOutbox(api);

mountHeader(header);

const router = createRouter(
  main,
  { ...fieldRoutes, ...consoleRoutes, ...staffRoutes, ...vcRoutes },
  '/',
  api,
  outbox,
);
goTo = (path) => {
  if (location.pathname !== path) router.navigate(path, { replace: true });
};
mountOutboxStatus(header, outbox, (path) => router.navigate(path));
onLangChange(() => router.refresh());
router.start();
startOutbox(outbox);
startUnsentReports(outbox, api);

// This device's notifications end with its session (sign-out, sign-out everywhere).
onSignOut((storage) => forgetPush({ pushManager: browserPushManager, storage }));

// Only in production builds: in `vite dev` there is no built sw.js, and a stale
// worker from an earlier build would serve old assets over the dev server.
// The service worker asks for a notification's screen (a tap, with this window open) and for a
// new push subscription to be registered (it cannot send the CSRF header itself).
if ('serviceWorker' in navigator) {
  navigator.serviceWorker.addEventListener('message', (event: MessageEvent) => {
    const data = event.data as { type?: unknown; url?: unknown } | null;
    if (data?.type === OPEN_MESSAGE) router.navigate(inAppPath(data.url));
    else if (data?.type === RESUBSCRIBED_MESSAGE) void ensurePush(defaultPushDeps({ api, navigate: router.navigate })).catch(() => undefined);
  });
}

if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  window.addEventListener('load', () => {
    navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch((err: unknown) => {
      // The app works without it (just not offline); don't bother the user.
      console.warn('Service worker registration failed', err);
    });
  });
}
