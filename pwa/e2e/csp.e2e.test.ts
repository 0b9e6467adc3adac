// The Content-Security-Policy (docs/decisions/0014) lets the PWA work: the field app with its
// MapLibre map (worker, WebGL, the base map's tiles) and service worker, the staff screens and
// the console — with no violation reported on any of them.
import type { BrowserContext, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { startDrill, unlockIfAsked } from './field-kit';
import { credentialFor, type E2EEnv, newDesktopContext, newPhoneContext, signInUi, useBrowser, waitForServiceWorker } from './support';

const suite = useBrowser();
let env: E2EEnv;
beforeAll(() => {
  suite.ready();
  env = suite.env;
});

const TILE_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

/** Every violation the page reports, kept across navigations of the context. */
async function watchViolations(context: BrowserContext): Promise<string[]> {
  const seen: string[] = [];
  await context.exposeBinding('__cspViolation', (_source, text: string) => void seen.push(text));
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      (window as unknown as { __cspViolation: (t: string) => void }).__cspViolation(`${e.violatedDirective} ${e.blockedURI} ${location.pathname}`);
    });
  });
  context.on('console', (msg) => {
    if (/Content Security Policy/i.test(msg.text())) seen.push(msg.text());
  });
  return seen;
}

async function visit(page: Page, path: string, ready: string): Promise<void> {
  const resp = await page.goto(path);
  expect(resp?.headers()['content-security-policy'], path).toContain("frame-ancestors 'none'");
  await page.locator(ready).first().waitFor();
}

describe('content security policy', () => {
  it('the field app, its map and service worker run without a violation', async () => {
    const { op } = await startDrill(env, 'E2E CSP');
    const context = await newPhoneContext(suite.browser, env.baseUrl);
    const seen = await watchViolations(context);
    // The base map (GSI by default): answered here, so the browser makes no outside connection.
    await context.route(/^https?:\/\/(?!127\.0\.0\.1)[^/]+\/.*\/\d+\/\d+\/\d+\.png$/, (route) =>
      route.fulfill({ status: 200, contentType: 'image/png', body: TILE_PNG, headers: { 'Access-Control-Allow-Origin': '*' } }));
    try {
      const page = await context.newPage();
      await signInUi(page, credentialFor(env, 'watcher'));
      await waitForServiceWorker(page);
      await page.goto(`/op/${op.id}`);
      await unlockIfAsked(page, '[data-household]');
      await page.locator('[data-household]').first().waitFor();
      await page.locator('[data-view="map"]').click();
      await page.locator('.map-canvas[data-map-state="ready"]').waitFor();
      await visit(page, '/account', '[data-field="login"]');
      expect(seen).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('the staff screens and the console run without a violation', async () => {
    const context = await newDesktopContext(suite.browser, env.baseUrl);
    const seen = await watchViolations(context);
    try {
      const page = await context.newPage();
      await signInUi(page, credentialFor(env, 'admin'));
      await visit(page, '/staff', '.staff-menu');
      await visit(page, '/staff/registry', 'table');
      await visit(page, '/staff/operations', 'form[data-form="operation"]');
      await visit(page, '/staff/users', 'table[data-users-table]');
      await visit(page, '/staff/audit', 'table[data-audit-table]');
      await visit(page, '/console', 'h1');
      expect(seen).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
