// The planning tool on the coverage screen (#19): signed in as staff, the panel shows per district
// the simulated times of today's watch network and with added watchers, the figures the API
// computes; a new count re-runs it. axe-core is clean.
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { planTime, type Plan } from '../src/staff/planning-model';
import { type ApiSession, expectAxeClean, shot, useSignedInDesktop } from './support';

const desk = useSignedInDesktop('staff');
let page: Page;
let api: ApiSession;
beforeAll(() => ({ page, api } = desk));

const cell = (row: string, which: 'today' | 'added') => page.locator(`tr[data-plan-district="${row}"] td[data-plan-full="${which}"]`);

describe('planning panel', () => {
  it('shows per district the times to 100 % today and with added watchers, as the API computes them', async () => {
    await page.goto('/staff/watch');
    await page.locator('table[data-plan-table] tbody tr').first().waitFor();
    const plan = await api.get<Plan>('/api/drills/planning/?added=5&hazard=earthquake');
    expect(plan.added_placed).toBeGreaterThan(0);
    const shown = await page.locator('table[data-plan-table] tbody tr').count();
    expect(shown).toBe(plan.districts.filter((d) => d.today.households > 0).length);
    // The district the first added watcher went to: its row shows both times, as computed.
    const target = plan.districts.find((d) => d.district_id === plan.placements[0]!.district_id)!;
    await expect(cell(target.district_id, 'today').textContent()).resolves.toContain(planTime(target.today.confirmed_100_s, '未達'));
    await expect(cell(target.district_id, 'added').textContent()).resolves.toContain(planTime(target.with_added.confirmed_100_s, '未達'));
    const totals = await page.locator('[data-plan-totals="today"]').textContent();
    expect(totals).toContain(`全体 ${plan.totals_today.households}世帯`);
    expect(totals).toContain(`最初の報告 ${planTime(plan.totals_today.first_report_s, '未達')}`);
    expect(await page.locator('[data-planning] figure svg').count()).toBeGreaterThan(0);
    await expectAxeClean(page, 'planning panel');
    await shot(page, 'staff-watch-planning');
  });

  it('re-runs with another count: with none added, only today is shown', async () => {
    await page.getByLabel('追加する協力員の人数').fill('0');
    await page.getByLabel('追加する協力員の人数').dispatchEvent('change');
    await page.getByRole('button', { name: '試算する' }).click();
    await page.locator('[data-plan-totals="added"]').waitFor({ state: 'detached' });
    await page.locator('table[data-plan-table] tbody tr').first().waitFor();
    expect(await page.locator('td[data-plan-full="added"]').count()).toBe(0);
    expect(await page.locator('td[data-plan-full="today"]').count()).toBeGreaterThan(0);
  });
});
