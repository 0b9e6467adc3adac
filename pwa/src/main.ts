import './styles.css';
import { createApiClient } from './api/client';
import { initLang, onLangChange } from './i18n';
import { createOutbox, startOutbox } from './outbox/runtime';
import { homePage } from './pages/home';
import { loginPage } from './pages/login';
import { operationPage } from './pages/operation';
import { outboxPage } from './pages/outbox';
import { createRouter } from './router';
import { mountHeader } from './ui/header';
import { mountOutboxStatus } from './ui/outbox-status';

initLang();

const header = document.getElementById('app-header')!;
const main = document.getElementById('main')!;

const api = createApiClient();
const outbox = createOutbox(api);

mountHeader(header);

const router = createRouter(
  main,
  { '/': homePage, '/login': loginPage, '/op/:id': operationPage, '/outbox': outboxPage },
  '/',
  api,
  outbox,
);
mountOutboxStatus(header, outbox, (path) => router.navigate(path));
onLangChange(() => router.refresh());
router.start();
startOutbox(outbox);

// Only in production builds: in `vite dev` there is no built sw.js, and a stale
// worker from an earlier build would serve old assets over the dev server.
if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  window.addEventListener('load', () => {
    navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch((err: unknown) => {
      // The app works without it (just not offline); don't bother the user.
      console.warn('Service worker registration failed', err);
    });
  });
}
