// The volunteer centre on the map (#18): the console's needs map (tiles coloured by state, moving
// live over the event stream) and the intake form's map pick. Waits on the pages' own signals:
// `data-needs="loaded"` once the needs tiles in view have loaded, `data-live="on"` once the stream
// is open, MapLibre's feature-state for a live change.
import type { Browser, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiSession,
  apiSession,
  credentialFor,
  type E2EEnv,
  expectAxeClean,
  newDesktopContext,
  shot,
  signInUi,
  useBrowser,
  VC_BASE,
} from './support';

const suite = useBrowser();
let env: E2EEnv;
let browser: Browser;
beforeAll(() => ({ env, browser } = suite));

interface Need { id: string; lon: number; lat: number; location_approximate: boolean; state: string }

async function drillCentre(staff: ApiSession, name: string): Promise<string> {
  const centre = await staff.post<{ operation_id: string; label: string }>('/api/vc/centres/', { mode: 'drill', name, ...VC_BASE });
  expect(centre.label).toBe('【訓練】');
  return centre.operation_id;
}

async function need(staff: ApiSession, op: string, i: number, at: { lon: number; lat: number }): Promise<Need> {
  return staff.post<Need>(`/api/vc/centres/${op}/needs`, {
    requester_name: `E2E 地図 ${i}`, requester_kana: 'チズ', phone: `0296-71-${1000 + i}`, address: `笠間市E2E地図 ${i}番地`,
    people_needed: 2 + i, work_types: ['mud_out'], ...at,
  });
}

/** The needs in the loaded tiles with their state as drawn (a live change first, else the tile's). */
async function drawnNeeds(page: Page): Promise<Record<string, string>> {
  return page.evaluate(() => {
    const map = (document.querySelector('[data-needs-map]') as any).maplibre;
    const out: Record<string, string> = {};
    for (const f of map.querySourceFeatures('needs', { sourceLayer: 'vc_needs' })) {
      const id = f.properties.id as string;
      const live = map.getFeatureState({ source: 'needs', sourceLayer: 'vc_needs', id }).state;
      out[id] = (live ?? f.properties.state) as string;
    }
    return out;
  });
}

describe('volunteer centre map', () => {
  it('the console shows the centre’s needs by state and moves them live; a new need appears', async () => {
    suite.ready();
    const staff = await apiSession(env.baseUrl, credentialFor(env, 'staff'));
    const op = await drillCentre(staff, 'E2E 災害VC 地図');
    const a = await need(staff, op, 1, VC_BASE);
    const b = await need(staff, op, 2, { lon: VC_BASE.lon + 0.004, lat: VC_BASE.lat });
    const context = await newDesktopContext(browser, env.baseUrl);
    const page = await context.newPage();
    await signInUi(page, credentialFor(env, 'coordinator'));

    // From the console's list: a VC operation opens its needs map.
    await page.goto('/console');
    const link = page.locator(`[data-op="${op}"]`);
    await link.waitFor();
    expect(await link.getAttribute('href')).toBe(`/console/vc/${op}`);
    await link.click();
    await page.locator('[data-needs-map][data-needs="loaded"]').waitFor();
    await page.locator('[data-live="on"]').waitFor();
    expect(await page.locator('h1').textContent()).toMatch(/^【訓練】E2E 災害VC 地図/);
    await page.locator('[data-drill]').waitFor();
    expect(await drawnNeeds(page)).toMatchObject({ [a.id]: 'received', [b.id]: 'received' });
    await expectAxeClean(page, 'console needs map');

    // Another desk moves a need: it changes colour here without a reload.
    await staff.post(`/api/vc/needs/${a.id}/state`, { state: 'waiting' });
    await page.waitForFunction((id) => {
      const map = (document.querySelector('[data-needs-map]') as any).maplibre;
      return map.getFeatureState({ source: 'needs', sourceLayer: 'vc_needs', id }).state === 'waiting';
    }, a.id);

    // A need taken meanwhile: the map fetches its tiles again and shows it.
    const c = await need(staff, op, 3, { lon: VC_BASE.lon, lat: VC_BASE.lat + 0.003 });
    await page.waitForFunction((id) => {
      const map = (document.querySelector('[data-needs-map]') as any).maplibre;
      return map.querySourceFeatures('needs', { sourceLayer: 'vc_needs' }).some((f: any) => f.properties.id === id);
    }, c.id);
    expect(await drawnNeeds(page)).toMatchObject({ [a.id]: 'waiting', [b.id]: 'received', [c.id]: 'received' });
    await shot(page, 'vc-console-needs-map');
    await context.close();
  });

  it('the desk: the map tab shows the needs; the intake form takes the place from a map pick, or says おおよその位置', async () => {
    suite.ready();
    const staff = await apiSession(env.baseUrl, credentialFor(env, 'staff'));
    const op = await drillCentre(staff, 'E2E 災害VC 受付地図');
    const first = await need(staff, op, 4, VC_BASE);
    const context = await newDesktopContext(browser, env.baseUrl);
    const page = await context.newPage();
    await signInUi(page, credentialFor(env, 'staff'));

    await page.goto(`/staff/vc/${op}/map`);
    await page.locator('[data-needs-map][data-needs="loaded"]').waitFor();
    expect(await drawnNeeds(page)).toMatchObject({ [first.id]: 'received' });
    await expectAxeClean(page, 'desk needs map');

    await page.goto(`/staff/vc/${op}/intake`);
    const form = page.locator('form[data-intake]');
    await form.waitFor();
    await form.locator('[data-location="missing"]').waitFor();
    // Only a town: the form says the place will be approximate.
    await form.getByLabel('町名（地図で選べないとき）').fill('赤坂');
    expect(await form.locator('[data-location="approximate"]').textContent()).toContain('おおよその位置');
    // A pick on the map: the point goes into the latitude/longitude fields.
    await form.getByText('地図をクリックして位置を選ぶ').click();
    const pickMap = form.locator('.staff-map[data-ready="true"]');
    await pickMap.waitFor();
    await pickMap.click(); // the middle of the map: the council's centre, inside its area
    await form.locator('[data-location="pin"]').waitFor();
    const lat = Number(await form.getByLabel('緯度').inputValue());
    const lon = Number(await form.getByLabel('経度').inputValue());
    expect(lat).toBeGreaterThan(30);
    expect(lon).toBeGreaterThan(130);
    await form.getByLabel('依頼者の氏名').fill('E2E 地図 選択');
    await form.getByLabel('住所').fill('笠間市E2E地図 5番地');
    await form.getByRole('button', { name: '重複を確認' }).click();
    await form.getByRole('button', { name: '新しいニーズとして登録' }).click();
    await page.locator('[data-notice]', { hasText: 'ニーズを登録しました。' }).waitFor();
    const saved = (await staff.get<Need[]>(`/api/vc/centres/${op}/needs`)).find((n) => n.id !== first.id);
    expect(saved).toBeDefined();
    expect(saved!.location_approximate).toBe(false);
    expect(saved!.lat).toBeCloseTo(lat, 6);
    expect(saved!.lon).toBeCloseTo(lon, 6);

    // Without a pin: the server places it at the town's point and marks it approximate; the notice says so.
    await form.getByLabel('依頼者の氏名').fill('E2E 町名 だけ');
    await form.getByLabel('住所').fill('笠間市赤坂 E2E');
    await form.getByLabel('町名（地図で選べないとき）').fill('赤坂');
    await form.getByRole('button', { name: '重複を確認' }).click();
    await form.locator('[data-location="approximate"]').waitFor();
    await form.getByRole('button', { name: '新しいニーズとして登録' }).click();
    await page.locator('[data-notice]', { hasText: 'おおよその位置' }).waitFor();
    const approx = (await staff.get<Need[]>(`/api/vc/centres/${op}/needs`)).filter((n) => n.location_approximate);
    expect(approx).toHaveLength(1);
    await context.close();
  });
});
