// Drills (issue #19), signed in as staff at 1280×800: the drills screen lists a drill run with its
// clock and controls, marked 【訓練】; its after-action report shows the expectations with ○/×,
// the confirmation curves as an SVG chart, and takes an evaluator's ○; axe-core is clean on both.
// The run is a small scenario on one branch started through the API (no escalations, so the other
// suites' figures are untouched), as fast as possible.
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ApiSession, expectAxeClean, useSignedInDesktop } from './support';

interface Run { id: string; status: string; fired: number; injects: number }

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
});
