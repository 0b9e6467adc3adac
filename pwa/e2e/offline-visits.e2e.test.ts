// Field data is never lost: a watcher records 50 visits offline in a drill safety check,
// reloads while offline (the list and the counter survive), goes online, and the outbox
// drains to 0. Staff then finds exactly those 50 visits on the server — no duplicates.
import type { Browser, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { waitForCount } from './field-kit';
import {
  apiSession,
  type ApiSession,
  credentialFor,
  type E2EEnv,
  newPhoneContext,
  shot,
  signInUi,
  unlockWithPin,
  useBrowser,
  waitForServiceWorker,
} from './support';

const TOTAL = 50;
const OUTCOMES = ['safe', 'injured', 'rescue', 'evacuated', 'unknown'] as const;
const LABEL: Record<(typeof OUTCOMES)[number], string> = { safe: '無事', injured: '負傷', rescue: '要救助', evacuated: '避難済', unknown: '不明' };

const suite = useBrowser();
let env: E2EEnv;
let browser: Browser;
beforeAll(() => ({ env, browser } = suite));

/** As staff, through the API: a drill safety check on every district, started. */
async function startDrill(): Promise<{ staff: ApiSession; op: { id: string; mode: string; status: string } }> {
  const staff = await apiSession(env.baseUrl, credentialFor(env, 'staff'));
  const districts = await staff.get<Array<{ id: string }>>('/api/districts');
  expect(districts.length).toBeGreaterThan(0);
  const op = await staff.post<{ id: string; mode: string; status: string }>('/api/operations', {
    kind: 'safety_check',
    mode: 'drill',
    name: 'E2E訓練',
    district_ids: districts.map((d) => d.id),
    start: true,
  });
  expect(op.mode).toBe('drill');
  expect(op.status).toBe('active');
  return { staff, op };
}

/** Password, then the PIN (set on the first sign-in, entered when the device already has one). */
async function signIn(page: Page): Promise<void> {
  await signInUi(page, credentialFor(env, 'watcher'), { goto: false });
}

/** The export's rows. Every cell is quoted (server/core/csv_export.py), and none of these holds a line break. */
async function visitRows(staff: ApiSession, opId: string): Promise<string[][]> {
  const csv = await staff.getText(`/api/exports/visits.csv?mode=drill&operation_id=${opId}`);
  const cells = (line: string): string[] => line.slice(1, -1).split('","').map((c) => c.replaceAll('""', '"'));
  return csv.replace(/^\uFEFF/, '').trim().split('\r\n').slice(1).filter(Boolean).map(cells);
}

describe('offline visits', () => {
  it(`${TOTAL} visits recorded offline survive a reload and reach the server exactly once`, async () => {
    suite.ready();
    const { staff, op } = await startDrill();
    const context = await newPhoneContext(browser, env.baseUrl);
    const page = await context.newPage();
    try {
      // Sign in; home lists the running drill, marked 【訓練】.
      await page.goto('/login');
      await signIn(page);
      const link = page.locator(`[data-op="${op.id}"]`);
      await link.waitFor();
      expect(await link.textContent()).toContain('【訓練】E2E訓練');
      await link.click();
      await page.waitForURL((url) => url.pathname === `/op/${op.id}`);

      // The drill banner and the households in walking order.
      await page.locator('[data-drill]').waitFor();
      const toggles = page.locator('[data-household]');
      await toggles.first().waitFor();
      const householdIds = await toggles.evaluateAll((els) => els.map((el) => el.getAttribute('data-household')!));
      expect(householdIds.length).toBeGreaterThan(0);
      await waitForCount(page, 0);
      await shot(page, '20-households-online');

      await waitForServiceWorker(page);
      await context.setOffline(true);

      // Record TOTAL visits, spread over the households, each tap its own visit.
      const expected = new Map<string, number>();
      let recorded = 0;
      for (let j = 0; j < householdIds.length; j++) {
        const hh = householdIds[j]!;
        const taps = Math.floor(TOTAL / householdIds.length) + (j < TOTAL % householdIds.length ? 1 : 0);
        await page.locator(`[data-household="${hh}"]`).click();
        const panel = page.locator(`[data-household-panel="${hh}"]`);
        await panel.waitFor();
        for (let k = 0; k < taps; k++) {
          const outcome = OUTCOMES[(j + k) % OUTCOMES.length]!;
          await panel.locator(`[data-outcome="${outcome}"]`).click();
          if (outcome === 'evacuated') {
            // 避難済 asks where to: the nearest open shelter (or "unknown" if the list is empty).
            const picker = panel.locator('[data-shelter-picker]');
            await picker.waitFor();
            await picker.locator('[data-shelter]').first().click();
          }
          recorded++;
          await waitForCount(page, recorded);
          const key = `${hh}|${LABEL[outcome]}`;
          expected.set(key, (expected.get(key) ?? 0) + 1);
          if (outcome === 'rescue' && k < OUTCOMES.length) {
            // 要救助: the 110 / 119 buttons are on screen at once.
            const call = panel.locator('[data-call-now]');
            await call.waitFor();
            expect(await call.locator('a[href="tel:110"]').count()).toBe(1);
            expect(await call.locator('a[href="tel:119"]').count()).toBe(1);
          }
        }
        expect(await page.locator(`[data-household="${hh}"] [data-status]`).getAttribute('data-status')).not.toBe('unreached');
      }
      expect(recorded).toBe(TOTAL);
      await shot(page, '21-recorded-offline');
      // Outcome buttons, household rows, the counter: all at least 48×48 CSS px.
      const small = await page.$$eval('button, a[href]', (els) =>
        els
          .map((el) => ({ el, r: el.getBoundingClientRect() }))
          .filter(({ r }) => r.width > 0 && (r.height < 48 || r.width < 48))
          .map(({ el, r }) => `${el.tagName} ${el.textContent} ${r.width}×${r.height}`),
      );
      expect(small).toEqual([]);

      // Reload while offline: shell from the service worker, the PIN unlocks the sealed list, queue intact.
      await page.reload();
      await waitForCount(page, TOTAL);
      await unlockWithPin(page);
      await page.waitForURL((url) => url.pathname === `/op/${op.id}`);
      await page.locator('[data-offline]').waitFor();
      await page.locator('[data-drill]').waitFor();
      await waitForCount(page, TOTAL);
      expect(await page.locator('[data-household]').count()).toBe(householdIds.length);
      await shot(page, '22-reloaded-offline');

      // Online again: the outbox drains.
      await context.setOffline(false);
      await waitForCount(page, 0);
      await shot(page, '23-synced');

      // The server has exactly these visits: count and (household, outcome) multiset.
      const rows = await visitRows(staff, op.id);
      expect(rows).toHaveLength(TOTAL);
      const got = new Map<string, number>();
      for (const r of rows) {
        expect(r[0]).toBe('【訓練】E2E訓練');
        const key = `${r[1]}|${r[3]}`;
        got.set(key, (got.get(key) ?? 0) + 1);
      }
      expect(Object.fromEntries([...got].sort())).toEqual(Object.fromEntries([...expected].sort()));

      // The watcher's own history (GET /api/field/visits) has the same 50, and every 避難済
      // carries the shelter picked on the phone (sealed and unsealed on the way, never lost).
      const mine = await (await apiSession(env.baseUrl, credentialFor(env, 'watcher'))).get<Array<{ outcome: string; shelter_id: string | null }>>(
        `/api/field/visits?operation_id=${op.id}&limit=500`,
      );
      expect(mine).toHaveLength(TOTAL);
      const shelters = await staff.get<unknown[]>('/api/shelters');
      const evacuated = mine.filter((v) => v.outcome === 'evacuated');
      expect(evacuated.length).toBeGreaterThan(0);
      if (shelters.length > 0) expect(evacuated.every((v) => typeof v.shelter_id === 'string')).toBe(true);
    } finally {
      await context.close();
    }
  });

  it('a session that ended stops the queue; after signing in again it is sent', async () => {
    suite.ready();
    const { staff, op } = await startDrill();
    const context = await newPhoneContext(browser, env.baseUrl);
    const page = await context.newPage();
    try {
      await page.goto('/login');
      await signIn(page);
      await page.goto(`/op/${op.id}`);
      await unlockWithPin(page); // a new page load: the key is not in memory
      const first = page.locator('[data-household]').first();
      await first.waitFor();
      const hh = (await first.getAttribute('data-household'))!;
      await waitForCount(page, 0);

      // Offline, record one visit; then the session ends (cookies gone) while offline.
      await context.setOffline(true);
      await first.click();
      await page.locator(`[data-household-panel="${hh}"] [data-outcome="safe"]`).click();
      await waitForCount(page, 1);
      await context.clearCookies();
      await context.setOffline(false);

      // The push gets 401: the queue stops, keeps the visit, and asks for sign-in.
      const signInLink = page.locator('[data-outbox-signin]:not([hidden])');
      await signInLink.waitFor();
      await waitForCount(page, 1);
      await shot(page, '24-needs-sign-in');
      await signInLink.click();
      await page.waitForURL('**/login');
      await signIn(page);

      // Signed in again: the queue resumes and drains.
      await waitForCount(page, 0);
      expect(await page.locator('[data-outbox-signin]:not([hidden])').count()).toBe(0);
      const rows = await visitRows(staff, op.id);
      expect(rows.map((r) => `${r[1]}|${r[3]}`)).toEqual([`${hh}|無事`]);
    } finally {
      await context.close();
    }
  });
});
