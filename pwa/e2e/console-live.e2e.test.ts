// The coordinator's live map (issue #6): a coordinator opens the live map of a running safety
// check; a watcher in a second browser context records a visit on the field screen; the
// household's rendered state and the district counter change within 2 s without a reload. Then
// the coordinator's connection is cut (「再接続中」), two more visits are recorded, and after the
// connection returns both appear (resumed from Last-Event-ID). axe-core on each console screen;
// screenshots at 1280×800 in e2e/artifacts/ (asserted on content, so a blank map fails).
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  apiSession,
  type ApiSession,
  credentialFor,
  type E2EEnv,
  expectAxeClean,
  newDesktopContext,
  newPhoneContext,
  shot,
  signInUi,
  useBrowser,
} from './support';

const suite = useBrowser();
let env: E2EEnv;
let browser: Browser;
beforeAll(() => ({ env, browser } = suite));

interface Hh {
  id: string;
  district_id: string;
  lon: number;
  lat: number;
}

/** The household's live state as MapLibre sees it: feature-state and whether it is drawn. */
async function mapState(page: Page, id: string): Promise<{ state: string | null; rendered: string | null }> {
  return page.evaluate((hid) => {
    const el = document.querySelector('[data-map]') as (HTMLElement & { maplibre?: any }) | null;
    const map = el?.maplibre;
    if (!map) return { state: null, rendered: null };
    const st = map.getFeatureState({ source: 'households', sourceLayer: 'households', id: hid })?.status ?? null;
    const f = map.queryRenderedFeatures({ layers: ['households'] }).find((x: any) => x.properties?.id === hid);
    return { state: st, rendered: f ? String(f.state?.status ?? f.properties?.status) : null };
  }, id);
}

/** The colour MapLibre evaluated for the drawn household (paint, with feature-state applied). */
async function colourOf(page: Page, id: string): Promise<string | null> {
  return page.evaluate((hid) => {
    const map = (document.querySelector('[data-map]') as any).maplibre;
    const f = map.queryRenderedFeatures({ layers: ['households'] }).find((x: any) => x.properties?.id === hid);
    const c = f?.layer?.paint?.['circle-color'];
    if (!c) return null;
    const hex = (v: number) => Math.round(v * 255).toString(16).padStart(2, '0');
    return `#${hex(c.r)}${hex(c.g)}${hex(c.b)}`;
  }, id);
}

async function confirmedIn(page: Page, district: string): Promise<number> {
  const v = await page.locator(`[data-progress] tr[data-district="${district}"] [data-confirmed]`).getAttribute('data-confirmed');
  return Number(v);
}

/**
 * On the field screen: open the household and tap an outcome; done when the server has answered
 * the push that carries it (it answers only after the commit), and the server then has it.
 */
async function recordOnPhone(page: Page, watcher: ApiSession, opId: string, household: string, outcome: string): Promise<void> {
  await page.locator(`[data-household="${household}"]`).first().click();
  const panel = page.locator(`[data-household-panel="${household}"]`);
  await panel.waitFor();
  const pushed = page.waitForResponse((r) => r.url().includes('/api/sync/push') && r.ok() && (r.request().postData() ?? '').includes(household));
  await panel.locator(`[data-outcome="${outcome}"]`).click();
  await pushed;
  const mine = await watcher.get<{ households: Array<{ id: string; status: string }> }>(`/api/operations/${opId}/my-households`);
  expect(mine.households.find((h) => h.id === household)?.status, `the ${outcome} visit for ${household} reached the server`).toBe(outcome);
}

/**
 * Where to click household `id` on the live map: asked of the map once it is still (loaded, not
 * moving), where it really draws the household at that pixel and nothing covers the canvas there.
 */
async function clickPoint(page: Page, id: string, lonLat: [number, number]): Promise<{ x: number; y: number }> {
  // The map on screen first, as a user would scroll to it (the panels above it grew with #17).
  await page.locator('[data-map]').scrollIntoViewIfNeeded();
  const handle = await page.waitForFunction(
    ([hid, lon, lat]) => {
      const map = (document.querySelector('[data-map]') as any)?.maplibre;
      if (!map || !map.loaded() || map.isMoving()) return null;
      const p = map.project([lon, lat]);
      if (!map.queryRenderedFeatures(p, { layers: ['households'] }).some((f: any) => f.properties?.id === hid)) return null;
      const r = map.getCanvas().getBoundingClientRect();
      const at = { x: r.left + p.x, y: r.top + p.y };
      return document.elementFromPoint(at.x, at.y) === map.getCanvas() ? at : null;
    },
    [id, ...lonLat] as const,
    { polling: 'raf' },
  );
  return (await handle.jsonValue())!;
}

describe('console live map', () => {
  it('shows a phone visit within 2 s, survives a dropped connection, and passes axe', async () => {
    suite.ready();
    // A running (real) safety check over every district, with the demo coordinator on it.
    const staff = await apiSession(env.baseUrl, credentialFor(env, 'staff'));
    const coordApi = await apiSession(env.baseUrl, credentialFor(env, 'coordinator'));
    const coordinatorId = (await coordApi.get<{ id: string }>('/api/auth/me')).id;
    const districts = await staff.get<Array<{ id: string }>>('/api/districts');
    const op = await staff.post<{ id: string; status: string }>('/api/operations', {
      kind: 'safety_check', mode: 'real', name: 'E2E安否確認（ライブマップ）', start: true,
      district_ids: districts.map((d) => d.id), coordinator_ids: [coordinatorId],
    });
    expect(op.status).toBe('active');
    const watcherApi = await apiSession(env.baseUrl, credentialFor(env, 'watcher'));
    const mine = await watcherApi.get<{ households: Hh[] }>(`/api/operations/${op.id}/my-households`);
    expect(mine.households.length).toBeGreaterThanOrEqual(3);
    const [h0, h1, h2] = mine.households as [Hh, Hh, Hh];

    let coordCtx: BrowserContext | null = null;
    let phoneCtx: BrowserContext | null = null;
    try {
      // ---- the coordinator opens the console and the live map ----
      coordCtx = await newDesktopContext(browser, env.baseUrl);
      const coord = await coordCtx.newPage();
      await signInUi(coord, credentialFor(env, 'coordinator'));
      await coord.goto('/console');
      const link = coord.locator(`[data-op="${op.id}"]`);
      await link.waitFor();
      expect(await link.textContent()).toContain('E2E安否確認（ライブマップ）');
      await expectAxeClean(coord, '/console');
      await link.click();
      await coord.waitForURL((u) => u.pathname === `/console/op/${op.id}`);
      await coord.locator('[data-map][data-ready="true"]').waitFor();
      await coord.locator('[data-conn="live"]').waitFor();
      expect(await coord.locator('[data-conn]').textContent()).toContain('リアルタイム更新中');

      // Zoom to the watcher's households and wait until their tiles are drawn.
      await coord.evaluate(([lon, lat]) => {
        (document.querySelector('[data-map]') as any).maplibre.jumpTo({ center: [lon, lat], zoom: 16 });
      }, [h0.lon, h0.lat]);
      await coord.waitForFunction((id) => {
        const map = (document.querySelector('[data-map]') as any).maplibre;
        return map.loaded() && map.queryRenderedFeatures({ layers: ['households'] }).some((f: any) => f.properties?.id === id);
      }, h0.id);
      expect((await mapState(coord, h0.id)).rendered).toBe('unreached');

      // Click the household on the map: its detail panel (through the audited household API).
      const point = await clickPoint(coord, h0.id, [h0.lon, h0.lat]);
      await coord.mouse.click(point.x, point.y);
      const detail = coord.locator(`[data-detail][data-household="${h0.id}"]`);
      await detail.waitFor();
      await detail.locator('h2').filter({ hasText: '笠間市' }).waitFor();
      expect(await detail.locator('[data-status]').getAttribute('data-status')).toBe('unreached');
      await expectAxeClean(coord, 'live map');
      // MapLibre's own controls speak Japanese too.
      expect(await coord.locator('.maplibregl-ctrl-zoom-in').getAttribute('title')).toBe('拡大');
      expect(await coord.locator('.maplibregl-ctrl-zoom-out').getAttribute('title')).toBe('縮小');

      expect(await colourOf(coord, h0.id)).toBe('#ffffff'); // unreached: white with a grey ring
      const before = await confirmedIn(coord, h0.district_id);
      const legendSafeBefore = await coord.locator('[data-legend-count="safe"]').textContent();

      // ---- a watcher records a visit on a phone (second browser context) ----
      phoneCtx = await newPhoneContext(browser, env.baseUrl);
      const phone = await phoneCtx.newPage();
      await signInUi(phone, credentialFor(env, 'watcher')); // sets the device PIN for field users
      await phone.locator(`[data-op="${op.id}"]`).click();
      await phone.waitForURL((u) => u.pathname === `/op/${op.id}`);
      await phone.locator(`[data-household="${h0.id}"]`).first().waitFor();

      const t0 = Date.now();
      await phone.locator(`[data-household="${h0.id}"]`).first().click();
      const panel = phone.locator(`[data-household-panel="${h0.id}"]`);
      await panel.waitFor();
      const clicked = Date.now();
      await panel.locator('[data-outcome="safe"]').click();
      // The map (feature-state and the drawn feature), the detail panel and the district counter:
      // waited for as they change, then held to the 2 s of issue #6.
      await coord.waitForFunction(
        ([id, district, want]) => {
          const map = (document.querySelector('[data-map]') as any).maplibre;
          const st = map.getFeatureState({ source: 'households', sourceLayer: 'households', id })?.status;
          const drawn = map.queryRenderedFeatures({ layers: ['households'] }).find((f: any) => f.properties?.id === id);
          const cell = document.querySelector(`[data-progress] tr[data-district="${district}"] [data-confirmed]`);
          const detailStatus = document.querySelector('[data-detail] [data-status]')?.getAttribute('data-status');
          return st === 'safe' && drawn?.state?.status === 'safe' && detailStatus === 'safe' && Number(cell?.getAttribute('data-confirmed')) === want;
        },
        [h0.id, h0.district_id, before + 1] as const,
        { polling: 'raf' },
      );
      const elapsed = Date.now() - clicked;
      expect(elapsed, `map + counter updated ${elapsed} ms after the tap (panel opened ${clicked - t0} ms)`).toBeLessThanOrEqual(2000);
      expect(await coord.locator('[data-legend-count="safe"]').textContent()).not.toBe(legendSafeBefore);
      expect(await colourOf(coord, h0.id)).toBe('#1d6b2f'); // safe: solid green

      // The screenshot must show a real map: households drawn, districts shaded, legend counted.
      const drawn = await coord.evaluate(() => {
        const map = (document.querySelector('[data-map]') as any).maplibre;
        return {
          households: map.queryRenderedFeatures({ layers: ['households'] }).length,
          districts: map.queryRenderedFeatures({ layers: ['districts-line'] }).length,
        };
      });
      expect(drawn.households).toBeGreaterThan(0);
      expect(drawn.districts).toBeGreaterThan(0);
      await coord.setViewportSize({ width: 1280, height: 800 });
      await shot(coord, '30-console-live-map');

      // ---- cut the coordinator's connection: 再接続中, and nothing arrives meanwhile ----
      await coordCtx.setOffline(true);
      await coord.locator('[data-conn="reconnecting"]').waitFor();
      expect(await coord.locator('[data-conn]').textContent()).toContain('再接続中');
      await recordOnPhone(phone, watcherApi, op.id, h1.id, 'injured');
      await recordOnPhone(phone, watcherApi, op.id, h2.id, 'rescue');
      // Both visits are committed and their events written; the console's stream is closed while
      // it is offline, so neither can have reached it.
      expect(await coord.locator('[data-conn]').getAttribute('data-conn')).toBe('reconnecting');
      expect((await mapState(coord, h1.id)).state).toBeNull();
      expect((await mapState(coord, h2.id)).state).toBeNull();
      await shot(coord, '31-console-reconnecting');

      // ---- restore: both missed visits appear, resumed from the last event id ----
      await coordCtx.setOffline(false);
      await coord.locator('[data-conn="live"]').waitFor();
      await coord.waitForFunction(
        ([a, b]) => {
          const map = (document.querySelector('[data-map]') as any).maplibre;
          const s = (id: string) => map.getFeatureState({ source: 'households', sourceLayer: 'households', id })?.status;
          return s(a) === 'injured' && s(b) === 'rescue';
        },
        [h1.id, h2.id] as const,
        { polling: 'raf' },
      );
      const expectedConfirmed = before + 1 + [h1, h2].filter((h) => h.district_id === h0.district_id).length;
      await coord.waitForFunction(
        ([district, want]) => Number(document.querySelector(`[data-progress] tr[data-district="${district}"] [data-confirmed]`)?.getAttribute('data-confirmed')) === want,
        [h0.district_id, expectedConfirmed] as const,
      );
      // Each missed event was applied exactly once: one timeline entry per visit.
      await coord.locator('[data-tab="timeline"]').click();
      await coord.locator('[data-timeline]').waitFor();
      for (const h of [h1, h2]) {
        // Live events reach the timeline through a 500 ms batch: wait for the entry, then count it.
        const entries = coord.locator(`[data-timeline] li[data-kind="visit.recorded"]:has([data-show-household="${h.id}"])`);
        await entries.first().waitFor();
        expect(await entries.count()).toBe(1);
      }
      await expectAxeClean(coord, 'timeline');

      // ---- the escalation queue: the injured household, assign, acknowledge, resolve ----
      await coord.locator('[data-tab="escalations"]').click();
      const esc = coord.locator('[data-escalations] li[data-escalation]').filter({ has: coord.locator(`[data-show-household="${h1.id}"]`) });
      await esc.waitFor();
      expect(await esc.getAttribute('data-status')).toBe('open');
      await expectAxeClean(coord, 'escalations');
      const escId = (await esc.getAttribute('data-escalation'))!;
      await coord.selectOption(`#esc-assign-${escId}`, { label: 'デモ 社協職員' });
      await esc.locator('[data-assign]').click();
      await coord.locator(`li[data-escalation="${escId}"]`).filter({ hasText: '担当：デモ 社協職員' }).waitFor();
      await coord.locator(`li[data-escalation="${escId}"] [data-ack]`).click();
      await coord.locator(`li[data-escalation="${escId}"][data-status="acknowledged"]`).waitFor();
      await coord.fill(`#esc-note-${escId}`, '救急搬送を確認');
      await coord.locator(`li[data-escalation="${escId}"] [data-resolve]`).click();
      await coord.locator(`li[data-escalation="${escId}"][data-status="resolved"]`).waitFor();
      expect(await coord.locator(`li[data-escalation="${escId}"]`).textContent()).toContain('救急搬送を確認');

      // Filters: status (in paint, since it follows feature-state) and support reason (server ids;
      // a coordinator outside a declared disaster may not see support reasons, so nothing matches).
      await coord.selectOption('#console-filter-status', 'safe');
      await coord.waitForFunction(() => document.querySelector('[data-map]')?.getAttribute('data-filter') === 'safe');
      // Evaluated paint per feature: the injured household is hidden, the safe one is not.
      const paintOf = (ids: string[]) => {
        const map = (document.querySelector('[data-map]') as any).maplibre;
        const fs = map.queryRenderedFeatures({ layers: ['households'] });
        const op = (id: string) => fs.find((f: any) => f.properties?.id === id)?.layer?.paint?.['circle-stroke-opacity'];
        return { safe: op(ids[0]), injured: op(ids[1]) };
      };
      // The filter shows at the map's next repaint (a frame or two later on a loaded machine):
      // checked on each frame until it is drawn, then asserted on what is drawn.
      await coord.waitForFunction((ids) => {
        const map = (document.querySelector('[data-map]') as any).maplibre;
        const fs = map.queryRenderedFeatures({ layers: ['households'] });
        const op = (id: string) => fs.find((f: any) => f.properties?.id === id)?.layer?.paint?.['circle-stroke-opacity'];
        return op(ids[0]!) === 1 && op(ids[1]!) === 0;
      }, [h0.id, h1.id], { polling: 'raf' });
      const hidden = await coord.evaluate(paintOf, [h0.id, h1.id]);
      expect(hidden).toEqual({ safe: 1, injured: 0 });
      await coord.selectOption('#console-filter-status', '');
      await coord.selectOption('#console-filter-reason', 'elderly_alone');
      await coord.locator('[data-match-count="0"]').waitFor();
      await coord.selectOption('#console-filter-reason', '');

      // Progress tab with the chart drawn from history.
      await coord.locator('[data-tab="progress"]').click();
      await coord.locator('[data-chart] polyline').waitFor();
      await expectAxeClean(coord, 'progress');
      await shot(coord, '32-console-after-reconnect');
    } finally {
      await phoneCtx?.close();
      await coordCtx?.close();
    }
  });

  it('on a desktop the map is on screen without scrolling, beside the panels; a phone keeps one column (#17)', async () => {
    suite.ready();
    // The demo's own operation (the closed past drill: drill banner, long counters and panels).
    const staff = await apiSession(env.baseUrl, credentialFor(env, 'staff'));
    const demo = (await staff.get<Array<{ id: string; name: string }>>('/api/operations')).find((o) => o.name.includes('デモの過去の訓練'));
    expect(demo, 'the demo seed has its past drill').toBeTruthy();
    const ctx = await newDesktopContext(browser, env.baseUrl);
    try {
      const page = await ctx.newPage();
      await signInUi(page, credentialFor(env, 'staff'));
      const boxes = async () =>
        page.evaluate(() => {
          const box = (sel: string) => {
            const r = document.querySelector(sel)!.getBoundingClientRect();
            return { top: r.top, bottom: r.bottom, left: r.left, right: r.right, height: r.height, width: r.width };
          };
          return { map: box('[data-map]'), side: box('.console-side'), counters: box('[data-counters]'), scrollY: window.scrollY, vh: window.innerHeight };
        });
      for (const [width, height] of [[1280, 800], [1440, 900]] as const) {
        await page.setViewportSize({ width, height });
        await page.goto(`/console/op/${demo!.id}`);
        await page.locator('[data-map][data-ready="true"]').waitFor();
        await page.locator('[data-drill]').waitFor();
        const b = await boxes();
        expect(b.scrollY, `${width}×${height}: not scrolled`).toBe(0);
        expect(b.map.top, `${width}×${height}: map top`).toBeGreaterThanOrEqual(0);
        expect(b.map.bottom, `${width}×${height}: map bottom`).toBeLessThanOrEqual(b.vh);
        expect(b.map.height).toBeGreaterThanOrEqual(350);
        // Beside the panels: the counters and the side panels are to its right.
        expect(b.side.left).toBeGreaterThanOrEqual(b.map.right);
        expect(b.counters.left).toBeGreaterThanOrEqual(b.map.right);
        if (width === 1280) await shot(page, '33-console-desktop-layout');
      }
      await expectAxeClean(page, '/console/op (desktop layout)');
      // A phone: one column, counters above the map, the side panels below it.
      await page.setViewportSize({ width: 390, height: 844 });
      const p = await boxes();
      expect(p.counters.bottom).toBeLessThanOrEqual(p.map.top);
      expect(p.side.top).toBeGreaterThanOrEqual(p.map.bottom);
    } finally {
      await ctx.close();
    }
  });
});
