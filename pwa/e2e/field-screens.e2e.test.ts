// Every field screen at phone size (390×844): rendered with its real content (asserted, not
// just a file on disk), axe-core clean (WCAG 2.x A/AA), and a screenshot in e2e/artifacts/
// (git-ignored) for people to look at: login, PIN (when the app asks), home, my households
// (list, record panel, map), outbox. The conflict list is covered by sync-resilience (c).
import type { Browser, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { startDrill, unlockIfAsked, waitForCount } from './field-kit';
import {
  answerPin,
  axeViolations,
  credentialFor,
  type E2EEnv,
  newPhoneContext,
  shot,
  useBrowser,
} from './support';

const suite = useBrowser();
let env: E2EEnv;
let browser: Browser;
beforeAll(() => ({ env, browser } = suite));

/** The screen rendered (its heading says `heading`), axe finds nothing, and it is saved. */
async function check(page: Page, name: string, heading: string | RegExp): Promise<void> {
  const h1 = page.locator('main h1, #main h1').first();
  await h1.waitFor();
  const text = (await h1.textContent()) ?? '';
  if (typeof heading === 'string') expect(text).toContain(heading);
  else expect(text).toMatch(heading);
  // No horizontal scrolling at phone width.
  expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
  const violations = await axeViolations(page);
  expect(violations, `${name}: ${JSON.stringify(violations, null, 1)}`).toEqual([]);
  await shot(page, name);
  // At double text size (our base is 112.5 %) the screen reflows instead of scrolling sideways
  // (WCAG 1.4.4 / 1.4.10): many of our volunteers read with large text.
  const { overflow, narrowest } = await page.evaluate(() => {
    document.documentElement.style.fontSize = '225%';
    // Text columns must stay readable, not squeezed to a character per line by badges beside them.
    const widths = [...document.querySelectorAll('.hh-text')].map((el) => el.getBoundingClientRect().width);
    return { overflow: document.documentElement.scrollWidth - window.innerWidth, narrowest: Math.min(Infinity, ...widths) };
  });
  await shot(page, `${name}-200pct`);
  await page.evaluate(() => {
    document.documentElement.style.fontSize = '';
  });
  expect(overflow, `${name} scrolls sideways at 200 % text`).toBeLessThanOrEqual(0);
  expect(narrowest, `${name}: a household's name column at 200 % text`).toBeGreaterThanOrEqual(150);
}

describe('field screens', () => {
  it('login, PIN, home, households, record panel, map and outbox are accessible and rendered', async () => {
    suite.ready();
    const { op } = await startDrill(env, 'E2E画面');
    const context = await newPhoneContext(browser, env.baseUrl);
    const page = await context.newPage();
    try {
      await page.goto('/login');
      await page.getByLabel('ログインID').waitFor();
      await check(page, '60-login', 'ログイン');

      const watcher = credentialFor(env, 'watcher');
      await page.getByLabel('ログインID').fill(watcher.login);
      await page.getByLabel('パスワード').fill(watcher.password);
      await page.getByRole('button', { name: 'ログイン', exact: true }).click();

      // The PIN screen, when the app asks for one (set-up after the first sign-in).
      const pin = page.locator('[data-pin-mode]');
      const home = page.locator(`[data-op="${op.id}"]`);
      await pin.or(home).first().waitFor();
      if (await pin.count()) {
        await check(page, '61-pin-setup', 'PIN');
        expect(await answerPin(page)).toBe(true);
      }

      await home.waitFor();
      await expect(home.textContent()).resolves.toContain('【訓練】E2E画面');
      await check(page, '62-home', 'ホーム');

      await home.click();
      await page.waitForURL((url) => url.pathname === `/op/${op.id}`);
      const first = page.locator('[data-household]').first();
      await first.waitFor();
      await waitForCount(page, 0);
      await page.locator('[data-drill]').waitFor();
      await check(page, '63-households', '【訓練】E2E画面');

      await first.click();
      const hh = (await first.getAttribute('data-household'))!;
      await page.locator(`[data-household-panel="${hh}"] [data-outcome="rescue"]`).waitFor();
      await check(page, '64-record-panel', '【訓練】E2E画面');

      await page.locator('[data-view="map"]').click();
      await page.locator('.map-canvas[data-map-state="ready"]').waitFor();
      await page.locator('[data-legend="unreached"]').waitFor();
      await check(page, '65-map', '【訓練】E2E画面');

      // A fresh load (the key lives in memory only): the unlock screen, if the app asks.
      await page.goto('/');
      const unlock = page.locator('[data-pin-mode="unlock"]');
      await unlock.or(home).first().waitFor();
      if (await unlock.count()) {
        await check(page, '67-pin-unlock', 'PIN');
        expect(await answerPin(page)).toBe(true);
      }
      await home.waitFor();

      await page.goto('/outbox');
      await unlockIfAsked(page, '[data-outbox-summary]');
      const summary = page.locator('[data-outbox-summary]');
      await summary.waitFor();
      await expect(page.locator('[data-outbox-summary]').textContent()).resolves.toBe('未送信 0件');
      await check(page, '66-outbox', '送信待ちの記録');

      // English too: the same screens carry translated, still accessible text.
      await page.getByRole('button', { name: 'English' }).click();
      await expect(page.locator('[data-outbox-summary]').textContent()).resolves.not.toContain('未送信');
      expect(await axeViolations(page)).toEqual([]);
      await shot(page, '68-outbox-en');
    } finally {
      await context.close();
    }
  });
});
