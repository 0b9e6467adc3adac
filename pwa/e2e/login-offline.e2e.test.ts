// Foundation e2e: Japanese login, watcher home, and the home page served offline
// by the service worker. Needs a running server (see README in the report):
//   E2E_BASE_URL=http://127.0.0.1:8765 E2E_CREDENTIALS=creds.json npm run test:e2e
import type { Browser, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  answerPin,
  credentialFor,
  type E2EEnv,
  expectReflowAtDoubleText,
  expectTapTargets,
  newPhoneContext,
  shot,
  unlockWithPin,
  useBrowser,
  waitForServiceWorker,
} from './support';

const JAPANESE = /[\u3040-\u30ff\u4e00-\u9fff]/;
const TENANT = '笠間市社会福祉協議会';

const suite = useBrowser();
let env: E2EEnv;
let browser: Browser;
beforeAll(() => ({ env, browser } = suite));

async function openLogin(page: Page): Promise<void> {
  await page.goto('/');
  // Not signed in: the home page sends us to /login.
  await page.waitForURL('**/login');
  await page.getByLabel('ログインID').waitFor();
  expect(await page.getAttribute('html', 'lang')).toBe('ja');
}

async function submitLogin(page: Page, login: string, password: string): Promise<void> {
  await page.getByLabel('ログインID').fill(login);
  await page.getByLabel('パスワード').fill(password);
  await page.getByRole('button', { name: 'ログイン', exact: true }).click();
}


describe('login and offline home', () => {
  it('a wrong password shows the server message in Japanese', async () => {
    suite.ready();
    const watcher = credentialFor(env, 'watcher');
    const context = await newPhoneContext(browser, env.baseUrl);
    const page = await context.newPage();
    try {
      await openLogin(page);
      await submitLogin(page, watcher.login, `${watcher.password}-wrong`);
      const alert = page.getByRole('alert');
      await alert.waitFor();
      const text = (await alert.textContent()) ?? '';
      expect(text).toMatch(JAPANESE);
      expect(page.url()).toMatch(/\/login$/);
      await shot(page, '01-wrong-password-ja');

      // The language toggle switches labels and <html lang>, and back.
      await page.getByRole('button', { name: 'English' }).click();
      expect(await page.getAttribute('html', 'lang')).toBe('en');
      await page.getByLabel('Login ID').waitFor();
      expect(await page.getByRole('alert').textContent()).not.toMatch(JAPANESE);
      await shot(page, '02-wrong-password-en');
      await page.getByRole('button', { name: '日本語' }).click();
      expect(await page.getAttribute('html', 'lang')).toBe('ja');
    } finally {
      await context.close();
    }
  });

  it('a watcher signs in, sees their home, and it still opens offline', async () => {
    suite.ready();
    const watcher = credentialFor(env, 'watcher');
    const context = await newPhoneContext(browser, env.baseUrl);
    const page = await context.newPage();
    try {
      // 1. Fresh context: Japanese login page.
      await openLogin(page);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('ログイン');
      await expectTapTargets(page);
      await shot(page, '10-login-ja');

      // 2. Sign in as the watcher; the first sign-in on a device sets a PIN (entered twice).
      await submitLogin(page, watcher.login, watcher.password);
      await page.locator('[data-pin-mode="setup"]').waitFor();
      await expectTapTargets(page);
      await shot(page, '15-pin-setup');
      expect(await answerPin(page)).toBe(true);
      await page.waitForURL((url) => url.pathname === '/');
      const name = page.locator('[data-field=display_name]');
      await name.waitFor();
      const displayName = ((await name.textContent()) ?? '').trim();
      expect(displayName.length).toBeGreaterThan(0);
      expect(await page.locator('[data-field=login]').textContent()).toBe(watcher.login);
      expect(await page.locator('[data-field=role]').textContent()).toBe('見守り協力員');
      expect(await page.locator('[data-field=tenant]').textContent()).toBe(TENANT);
      expect(await page.locator('[data-offline]').count()).toBe(0);
      await expectTapTargets(page);
      await shot(page, '11-home-online');
      await expectReflowAtDoubleText(page, '12-home-200pct-text');

      // 3. Service worker active and controlling.
      await waitForServiceWorker(page);

      // /api navigations are not answered by the app shell (navigation denylist).
      const api = await page.goto('/api/auth/me');
      expect(api?.headers()['content-type'] ?? '').toMatch(/json/);
      // A new page load: the key is only in memory, so the PIN opens the data again.
      await page.goto('/');
      await unlockWithPin(page);
      await name.waitFor();

      // 4. Offline → reload: the shell comes from the SW, the PIN unlocks offline, the user from localStorage.
      await context.setOffline(true);
      await page.reload();
      await unlockWithPin(page);
      const offline = page.locator('[data-offline]');
      await offline.waitFor();
      expect(await offline.textContent()).toContain('オフライン');
      expect(await page.getAttribute('html', 'lang')).toBe('ja');
      expect(await page.locator('[data-field=display_name]').textContent()).toBe(displayName);
      expect(await page.locator('[data-field=role]').textContent()).toBe('見守り協力員');
      expect(await page.locator('[data-field=tenant]').textContent()).toBe(TENANT);
      await shot(page, '13-home-offline');

      // 5. A deep link offline falls back to the app shell too…
      await page.goto('/households/some/deep/link');
      await unlockWithPin(page);
      await page.waitForURL((url) => url.pathname === '/');
      await offline.waitFor();
      await shot(page, '14-deep-link-offline');

      // …but an /api navigation offline is NOT served from the cache.
      const apiOffline = await page.goto('/api/auth/me').then(
        () => 'served',
        () => 'network-error',
      );
      expect(apiOffline).toBe('network-error');
    } finally {
      await context.close();
    }
  });
});
