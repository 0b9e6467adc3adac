// Drills (issue #19), signed in as staff at 1280×800: the drills screen lists a drill run with its
// clock and controls, marked 【訓練】; its after-action report shows the expectations with ○/×,
// the confirmation curves as an SVG chart, and takes an evaluator's ○; axe-core is clean on both.
// The run is a small scenario on one branch started through the API (no escalations, so the other
// suites' figures are untouched), as fast as possible. A volunteer-centre drill links from its run
// (the list and the report) to its drill centre's desk, console map and daily sheet, each of which
// says 【訓練】 and links back to the run.
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ApiSession, expectAccessibleScreen, expectAxeClean, useSignedInDesktop } from './support';

interface Run { id: string; status: string; fired: number; injects: number; operation_id: string; centre: { operation_id: string; opened_on: string } | null }

const SCENARIO = `
title: "【訓練】E2E 振り返りの試験"
hazard: {kind: earthquake, magnitude: 6.8}
area: {districts: [笠間小学校区]}
start: "2027-01-15T10:00:00+09:00"
duration: "T+30:00"
injects:
  - {at: "T+0:00", kind: announcement, message: {ja: "地震が発生しました"}}
  - {at: "T+10:00", kind: road_closure, line: [[140.26, 36.39], [140.27, 36.40]], message: {ja: "道路が通行止め"}}
expectations:
  - {kind: first_report_by, by: "T+20:00", text: {ja: "最初の報告が20分以内に届く"}}
  - {kind: evaluator, text: {ja: "無線で状況を共有した"}}
`;

// A short VC day the bots work through by themselves (its own centre: other suites use their own).
const VC_SCENARIO = `
title: "【訓練】E2E 災害VCの往来"
exercise: vc
hazard: {kind: flood, river: 涸沼川, level: 5}
area: {districts: [友部地区]}
start: "2027-07-12T08:30:00+09:00"
duration: "T+120:00"
vc: {centre: E2E 往来センター, district: 友部地区, equipment: {shovel: 10}}
roles:
  - {role: vc_staff, played_by: bots, bots: {start_delay_minutes: 1, desk_minutes: 5, survey_minutes: 10, team_size: 3}}
  - {role: vc_volunteer, played_by: bots, bots: {work_minutes: 30, done_share: 1.0}}
injects:
  - {at: "T+5:00", kind: need_phoned_in, audience: vc_staff, district: 友部地区, need: {work_types: [mud_out], equipment: [shovel], people: 3}, message: {ja: "泥出しの依頼"}}
  - {at: "T+10:00", kind: volunteer_walk_in, audience: vc_staff, count: 3, message: {ja: "3人が来所"}}
`;

const desk = useSignedInDesktop('staff');
let page: Page;
let staffApi: ApiSession;
beforeAll(() => ({ page, api: staffApi } = desk));

async function finished(id: string): Promise<Run> {
  for (;;) {
    const run = (await staffApi.get<Run[]>('/api/drills/runs')).find((r) => r.id === id)!;
    if (run.status === 'finished') return run;
    await page.waitForTimeout(100); // polling the server's own state of the run
  }
}

describe('drills', () => {
  it('lists a drill with its clock and opens its printable report with ○/× and the curves', async () => {
    const run = await staffApi.post<Run>('/api/drills/runs', { yaml: SCENARIO, speed: 'max' });
    expect((await finished(run.id)).fired).toBe(2);

    await page.goto('/staff/drills');
    await page.getByRole('heading', { level: 1, name: '【訓練】訓練の実施と振り返り' }).waitFor();
    const row = page.locator(`tr[data-run="${run.id}"]`);
    await row.waitFor();
    expect(await row.locator('td').first().textContent()).toBe('【訓練】E2E 振り返りの試験');
    expect(await row.textContent()).toContain('終了（最後まで）');
    await expectAxeClean(page, 'drills list');

    await row.getByRole('link', { name: '振り返り' }).click();
    const report = page.locator(`[data-drill-report="${run.id}"]`);
    await report.waitFor();
    expect(await report.locator('.drill-banner').textContent()).toBe('【訓練】');
    expect(await report.locator('figure.report-chart svg[role="img"]').count()).toBe(1);
    const evaluator = report.locator('tr[data-expectation="1"]');
    expect(await evaluator.textContent()).toContain('評価者の判定待ち');
    await expectAxeClean(page, 'drill report');

    await evaluator.getByLabel('コメント 無線で状況を共有した').fill('全班が定時連絡できた');
    await evaluator.getByRole('button', { name: '○ とする' }).click();
    await page.locator('tr[data-expectation="1"] td.mark', { hasText: '○' }).waitFor();
    expect(await page.locator('tr[data-expectation="1"]').textContent()).toContain('全班が定時連絡できた');
  });

  it('links a volunteer-centre drill to its centre\'s desk, console map and daily sheet, and back', async () => {
    const started = await staffApi.post<Run>('/api/drills/runs', { yaml: VC_SCENARIO, speed: 'max' });
    const run = await finished(started.id);
    expect(run.centre?.operation_id).toBe(run.operation_id);
    const op = run.operation_id;
    const day = run.centre!.opened_on;

    // From the run's row: the centre's three screens.
    await page.goto('/staff/drills');
    const links = page.locator(`nav[data-centre-links="${run.id}"]`);
    await links.waitFor();
    expect(await links.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')))).toEqual([
      `/staff/vc/${op}/board`, `/console/vc/${op}`, `/staff/vc/${op}/day/${day}`,
    ]);
    await expectAxeClean(page, 'drills list with centre links');

    // The desk says 【訓練】 and leads back to the run's report.
    await links.getByRole('link', { name: '災害VCの受付台' }).click();
    await page.locator('[data-step="board"]').waitFor();
    expect(await page.locator('.drill-banner[data-drill]').textContent()).toContain('【訓練】');
    const back = page.locator(`[data-drill-run-link="${run.id}"] a`);
    expect(await back.textContent()).toContain('【訓練】E2E 災害VCの往来');
    await back.click();
    const report = page.locator(`[data-drill-report="${run.id}"]`);
    await report.waitFor();
    await expectAccessibleScreen(page, 'drill-report-vc-links');

    // From the report: the needs map in the console, 【訓練】, and back.
    await page.locator(`nav[data-centre-links="${run.id}"]`).getByRole('link', { name: 'ニーズ地図（コンソール）' }).click();
    await page.locator('h1[data-centre-name]').waitFor();
    await page.locator(`[data-drill-run-link="${run.id}"] a`).waitFor();
    expect(await page.locator('.drill-banner[data-drill]').textContent()).toContain('【訓練】');
    await page.locator(`[data-drill-run-link="${run.id}"] a`).click();
    await report.waitFor();

    // And the A4 daily sheet of the day the centre opened: 【訓練】 in its title, and back.
    await page.locator(`nav[data-centre-links="${run.id}"]`).getByRole('link', { name: '日報（A4）' }).click();
    await page.locator(`[data-print-sheet][data-day="${day}"]`).waitFor();
    expect(await page.locator('[data-sheet-title]').textContent()).toContain('【訓練】');
    await page.locator(`[data-drill-run-link="${run.id}"] a`).click();
    await report.waitFor();
    expect(page.url()).toContain(`/staff/drills/${run.id}`);
  });

  it('compares two runs\' volunteer centres side by side, and says when a run had none', async () => {
    const [a, b, safety] = await Promise.all([
      staffApi.post<Run>('/api/drills/runs', { yaml: VC_SCENARIO, speed: 'max' }),
      staffApi.post<Run>('/api/drills/runs', { yaml: VC_SCENARIO, speed: 'max' }),
      staffApi.post<Run>('/api/drills/runs', { yaml: SCENARIO, speed: 'max' }),
    ]);
    await Promise.all([finished(a.id), finished(b.id), finished(safety.id)]);

    await page.goto(`/staff/drills/${a.id}/compare/${b.id}`);
    const vc = page.locator('table[data-compare-vc]');
    await vc.waitFor();
    expect(await vc.locator('tr[data-vc-row="staff.report.vcNeeds"] td').allTextContents()).toEqual(['1 / 1', '1 / 1']);
    expect(await page.locator('[data-vc-missing]').count()).toBe(0);
    expect(await page.locator('table[data-compare-vc-expectations]').count()).toBe(0); // this scenario sets none
    await expectAccessibleScreen(page, 'drill-compare-vc');

    await page.goto(`/staff/drills/${a.id}/compare/${safety.id}`);
    await page.locator('[data-vc-missing="b"]').waitFor();
    expect(await page.locator('[data-vc-missing="b"]').textContent()).toContain('訓練Bには災害VCの記録がありません');
    const needs = await page.locator('table[data-compare-vc] tr[data-vc-row="staff.report.vcNeeds"] td').allTextContents();
    expect(needs).toEqual(['1 / 1', '記録なし']);
    await expectAxeClean(page, 'drill compare without a centre');
  });
});
