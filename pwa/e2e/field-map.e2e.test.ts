// The watcher's map (issue #5): my households on MapLibre from our vector tiles, status as
// colour + shape + number, tap → the household's record panel; "download my area" stores the
// tiles (ours per user, and the base map) so the map works offline; offline with nothing cached
// the page says so and shows a plain background instead of breaking.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { dbRows, readServerEnv, startDrill, unlockIfAsked, waitForCount } from './field-kit';
import {
  apiSession,
  axeViolations,
  credentialFor,
  type E2EEnv,
  newPhoneContext,
  shot,
  signInUi,
  useBrowser,
  waitForServiceWorker,
} from './support';

const suite = useBrowser();
let env: E2EEnv;
let browser: Browser;
beforeAll(() => ({ env, browser } = suite));

// Any PNG is a valid raster tile: the base map (GSI by default) is served by the test, so the
// browser makes no outside connection and the download can be counted.
const TILE_PNG = readFileSync(fileURLToPath(new URL('../public/icons/icon-192.png', import.meta.url)));
let basemapHits = 0;

async function phone(): Promise<BrowserContext> {
  const context = await newPhoneContext(browser, env.baseUrl);
  await context.route(/^https?:\/\/(?!127\.0\.0\.1)[^/]+\/.*\/\d+\/\d+\/\d+\.png$/, (route) => {
    basemapHits++;
    return route.fulfill({ status: 200, contentType: 'image/png', body: TILE_PNG, headers: { 'Access-Control-Allow-Origin': '*' } });
  });
  return context;
}

/** Runs a test body on a fresh phone context; a failure leaves a screenshot, and the context is always closed. */
async function onPhone(body: (context: BrowserContext, page: Page) => Promise<void>): Promise<void> {
  const context = await phone();
  const page = await context.newPage();
  try {
    await body(context, page);
  } catch (err) {
    await shot(page, 'zz-failed-map').catch(() => undefined);
    throw err;
  } finally {
    await context.close();
  }
}

type Rendered = Array<{ id: string; status: string; x: number; y: number }>;

async function openMap(page: Page): Promise<void> {
  await page.locator('[data-view="map"]').click();
  await page.locator('.map-canvas[data-map-state="ready"]').waitFor();
  expect(await page.locator('[data-view="map"]').getAttribute('aria-pressed')).toBe('true');
  // Above the fold: the whole map is on the phone's screen once 地図 is pressed (#17).
  const box = await page.locator('.map-canvas').evaluate((el) => {
    const r = el.getBoundingClientRect();
    return { top: r.top, bottom: r.bottom, height: r.height, screen: window.innerHeight };
  });
  expect(box.top).toBeGreaterThanOrEqual(0);
  expect(box.bottom).toBeLessThanOrEqual(box.screen);
  expect(box.height).toBeGreaterThanOrEqual(280);
}

async function rendered(page: Page, atLeast: number): Promise<Rendered> {
  await page.waitForFunction(
    (n) => {
      const raw = document.querySelector<HTMLElement>('.map-canvas')?.dataset['rendered'];
      return !!raw && (JSON.parse(raw) as unknown[]).length >= n;
    },
    atLeast,
    { polling: 200 },
  );
  return JSON.parse((await page.locator('.map-canvas').getAttribute('data-rendered'))!) as Rendered;
}

/**
 * Where to tap household `id`, asked of the map itself once it is still (loaded, not moving):
 * where it draws the household now, with nothing covering the canvas there. A late layout change
 * (the legend growing, a resize) moves the map after its first idle; this follows it.
 */
async function tapPoint(page: Page, id: string): Promise<{ x: number; y: number }> {
  const handle = await page.waitForFunction(
    (hid) => {
      const map = (document.querySelector('.map-canvas') as (HTMLElement & { maplibre?: any }) | null)?.maplibre;
      if (!map || !map.loaded() || map.isMoving()) return null;
      const f = map.queryRenderedFeatures({ layers: ['op-households'] }).find((x: any) => x.properties?.id === hid);
      if (!f) return null;
      const p = map.project(f.geometry.coordinates);
      const r = map.getCanvas().getBoundingClientRect();
      const at = { x: r.left + p.x, y: r.top + p.y };
      return document.elementFromPoint(at.x, at.y) === map.getCanvas() ? at : null;
    },
    id,
    { polling: 'raf' },
  );
  return (await handle.jsonValue())!;
}

async function signInAndOpen(page: Page, opId: string): Promise<string[]> {
  await signInUi(page, credentialFor(env, 'watcher'));
  await unlockIfAsked(page, '[data-field="display_name"]');
  await page.goto(`/op/${opId}`);
  await unlockIfAsked(page, '[data-household]');
  const toggles = page.locator('[data-household]');
  await toggles.first().waitFor();
  return toggles.evaluateAll((els) => els.map((el) => el.getAttribute('data-household')!));
}

async function cacheSizes(page: Page): Promise<Record<string, number>> {
  return page.evaluate(async () => {
    const out: Record<string, number> = {};
    for (const name of await caches.keys()) {
      if (name.startsWith('tonari-tiles-') || name === 'tonari-basemap') out[name] = (await (await caches.open(name)).keys()).length;
    }
    return out;
  });
}

describe('field map', () => {
  it('shows my households by status, opens one on tap, downloads the area and works offline', async () => {
    suite.ready();
    const { op } = await startDrill(env, 'E2E地図');
    await onPhone(async (context, page) => {
      const mine = await signInAndOpen(page, op.id);
      expect(mine.length).toBeGreaterThan(0);
      await waitForServiceWorker(page);
      await openMap(page);

      // Our household tiles drew every one of my households, all still unreached.
      let drawn = await rendered(page, mine.length);
      for (const id of mine) expect(drawn.find((r) => r.id === id)?.status, id).toBe('unreached');
      // Colour is never alone: the legend names each status next to its symbol.
      await expect(page.locator('[data-legend="unreached"]').textContent()).resolves.toContain('未確認');
      await expect(page.locator('[data-legend="shelter"]').textContent()).resolves.toContain('避難所');
      expect(await page.locator('.map-canvas').getAttribute('aria-label')).toBe('担当世帯の地図');
      expect(basemapHits).toBeGreaterThan(0);
      expect(await axeViolations(page)).toEqual([]);
      await shot(page, '40-map-online');

      // Tap the first household on the map: back to the list with its record panel open.
      await page.locator('.map-canvas').scrollIntoViewIfNeeded();
      const first = { id: mine[0]! };
      const at = await tapPoint(page, first.id);
      await page.mouse.click(at.x, at.y);
      const panel = page.locator(`[data-household-panel="${first.id}"]`);
      await panel.waitFor();
      expect(await page.locator('[data-view="list"]').getAttribute('aria-pressed')).toBe('true');
      expect(await page.evaluate(() => document.activeElement?.getAttribute('data-household'))).toBe(first.id);
      await panel.locator('[data-outcome="safe"]').click();
      await waitForCount(page, 0);

      // The map shows what I just recorded: that household is now "safe".
      await openMap(page);
      await page.waitForFunction(
        (id) => (JSON.parse(document.querySelector<HTMLElement>('.map-canvas')!.dataset['rendered'] ?? '[]') as Rendered).some((r) => r.id === id && r.status === 'safe'),
        first.id,
      );
      await expect(page.locator('[data-legend="safe"]').textContent()).resolves.toContain('無事');

      // Download my area: progress n / total, then done with every tile stored.
      const estimate = Number(await page.locator('[data-download-estimate]').getAttribute('data-download-estimate'));
      expect(estimate).toBeGreaterThan(10);
      await page.locator('[data-download-start]').click();
      await page.locator('[data-download-result]').waitFor({ timeout: 120_000 });
      expect(await page.locator('[data-download-result]').getAttribute('data-download-result')).toBe('done');
      expect(Number(await page.locator('[data-download-result]').getAttribute('data-download-done'))).toBe(estimate);
      await expect(page.locator('[data-download-result]').textContent()).resolves.toMatch(/ダウンロードが完了しました：\d+ 枚、\d/);
      await page.locator('[data-storage]').waitFor();
      const sizes = await cacheSizes(page);
      const tileCaches = Object.keys(sizes).filter((n) => n.startsWith('tonari-tiles-'));
      expect(tileCaches).toHaveLength(1); // one cache, for this user
      expect(sizes[tileCaches[0]!]!).toBeGreaterThan(estimate / 2);
      expect(sizes['tonari-basemap'] ?? 0).toBeGreaterThan(0);
      await shot(page, '41-map-downloaded');

      // Offline, reloaded: the map still draws my households from the stored tiles.
      await context.setOffline(true);
      await page.reload();
      await unlockIfAsked(page, '[data-household]');
      await page.locator('[data-household]').first().waitFor();
      await openMap(page);
      await page.locator('[data-map-note="offline"]').waitFor();
      drawn = await rendered(page, mine.length);
      expect(drawn.map((r) => r.id).sort()).toEqual(expect.arrayContaining([...mine].sort()));
      expect(await axeViolations(page)).toEqual([]);
      await shot(page, '42-map-offline-cached');

      // The sign-out flow's hook: every user's private tiles go, the public base map stays.
      await context.setOffline(false);
      await page.evaluate(
        () =>
          new Promise<void>((resolve) => {
            const ch = new MessageChannel();
            ch.port1.onmessage = () => resolve();
            navigator.serviceWorker.controller!.postMessage({ type: 'tonari-tiles-clear' }, [ch.port2]);
          }),
      );
      const after = await cacheSizes(page);
      expect(Object.keys(after).filter((n) => n.startsWith('tonari-tiles-'))).toEqual([]);
      expect(after['tonari-basemap'] ?? 0).toBeGreaterThan(0);
    });
  });

  it('unreached households past the target time turn to the "overdue" mark (still with their number)', async () => {
    suite.ready();
    const { op } = await startDrill(env, 'E2E地図期限');
    // Started long ago: every unreached target is past its completion time (the tile says 'overdue').
    dbRows(readServerEnv(), "UPDATE operation SET started_at = now() - interval '30 days' WHERE id = $1::uuid RETURNING id", [op.id]);
    await onPhone(async (_context, page) => {
      const mine = await signInAndOpen(page, op.id);
      await openMap(page);
      const drawn = await rendered(page, mine.length);
      for (const id of mine) expect(drawn.find((r) => r.id === id)?.status, id).toBe('overdue');
      await page.locator('[data-legend="overdue"]').waitFor();
      await expect(page.locator('[data-legend="overdue"]').textContent()).resolves.toContain('目標時間を過ぎています');
      await shot(page, '44-map-overdue');
    });
  });

  it('two households at the same place: a tap there lists both, and each one opens (#17)', async () => {
    suite.ready();
    const { op, staff } = await startDrill(env, 'E2E地図同じ場所');
    const watcher = await apiSession(env.baseUrl, credentialFor(env, 'watcher'));
    const listed = (await watcher.get<{ households: Array<{ id: string }> }>(`/api/operations/${op.id}/my-households`)).households;
    expect(listed.length).toBeGreaterThanOrEqual(3);
    // The last two of my households (the first test taps the first): staff move one onto the other.
    const [a, b] = listed.slice(-2).map((hh) => hh.id) as [string, string];
    type Place = { version: number; lon: number; lat: number };
    const there = await staff.get<Place>(`/api/households/${a}`);
    const was = await staff.get<Place>(`/api/households/${b}`);
    const moved = await staff.patch<Place>(`/api/households/${b}`, { version: was.version, lon: there.lon, lat: there.lat });
    try {
      for (const target of [a, b]) {
        await onPhone(async (_context, page) => {
          await signInAndOpen(page, op.id);
          await openMap(page);
          const drawn = await rendered(page, listed.length);
          const [pa, pb] = [drawn.find((r) => r.id === a)!, drawn.find((r) => r.id === b)!];
          expect(Math.hypot(pa.x - pb.x, pa.y - pb.y)).toBeLessThan(1); // one mark hides the other
          const at = await tapPoint(page, a);
          await page.mouse.click(at.x, at.y);
          const pick = page.locator('[data-map-pick]');
          await pick.waitFor();
          expect(await pick.locator('[data-map-pick-household]').evaluateAll((els) => els.map((el) => el.getAttribute('data-map-pick-household')))).toEqual(
            expect.arrayContaining([a, b]),
          );
          await expect(pick.locator('h3').textContent()).resolves.toContain('この場所には 2 世帯あります');
          expect(await page.evaluate(() => document.activeElement?.hasAttribute('data-map-pick-household'))).toBe(true);
          const box = await pick.boundingBox();
          expect(box && box.y >= 0 && box.y + box.height <= page.viewportSize()!.height).toBe(true); // on screen, over the map
          expect(await axeViolations(page)).toEqual([]);
          if (target === a) await shot(page, '45-map-same-place');
          await pick.locator(`[data-map-pick-household="${target}"]`).click();
          await page.locator(`[data-household-panel="${target}"]`).waitFor();
          expect(await page.locator('[data-view="list"]').getAttribute('aria-pressed')).toBe('true');
        });
      }
    } finally {
      await staff.patch(`/api/households/${b}`, { version: moved.version, lon: was.lon, lat: was.lat });
    }
  });

  it('offline with no stored tiles: a plain background and a clear note, never a broken page', async () => {
    suite.ready();
    const { op } = await startDrill(env, 'E2E地図オフライン');
    await onPhone(async (context, page) => {
      const mine = await signInAndOpen(page, op.id);
      await waitForServiceWorker(page);
      // The list was seen online (so it is on the device); the map never was.
      await context.setOffline(true);
      await page.reload();
      await unlockIfAsked(page, '[data-household]');
      await page.locator('[data-household]').first().waitFor();
      await openMap(page);
      await page.locator('[data-map-note="offline"]').waitFor();
      await expect(page.locator('[data-map-note="offline"]').textContent()).resolves.toContain('オフラインです');
      expect(await page.locator('.map-canvas canvas').count()).toBe(1);
      expect(await page.locator('[data-map-note="failed"]').count()).toBe(0);
      const drawn = JSON.parse((await page.locator('.map-canvas').getAttribute('data-rendered')) ?? '[]') as Rendered;
      expect(drawn).toEqual([]);
      // Download needs a connection and says so; the list is one tap away.
      expect(await page.locator('[data-download-status="offline"]').count()).toBe(1);
      expect(await page.locator('[data-download-start]').isDisabled()).toBe(true);
      expect(await axeViolations(page)).toEqual([]);
      await shot(page, '43-map-offline-empty');
      await page.locator('[data-view="list"]').click();
      expect(await page.locator('[data-household]').count()).toBe(mine.length);
    });
  });
});
