import './styles.css';
import { createApiClient } from './api/client';
import { initLang, onLangChange } from './i18n';
import { homePage } from './pages/home';
import { loginPage } from './pages/login';
import { createRouter } from './router';
import { mountHeader } from './ui/header';

initLang();

const header = document.getElementById('app-header')!;
const main = document.getElementById('main')!;

mountHeader(header);

const router = createRouter(main, { '/': homePage, '/login': loginPage }, '/', createApiClient());
onLangChange(() => router.refresh());
router.start();

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
