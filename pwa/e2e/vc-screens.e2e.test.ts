// Every screen of the volunteer centre (#18) as accessible as the rest of the PWA, with the shared
// checks of support.ts (axe-core clean, 48 px targets, no sideways scroll at 200 % text): the
// desk's tabs with content in them, the centre list, the A4 daily sheet, and the public
// pre-registration page with its QR page. The volunteer's phone (/vc/me) is checked the same way in
// vc-desk's report test, where the leader's account is linked.
import type { Browser, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  apiSession,
  credentialFor,
  DEMO_COUNCIL,
  type E2EEnv,
  expectAccessibleScreen,
  newDesktopContext,
  newPhoneContext,
  signInUi,
  useBrowser,
  VC_BASE,
} from './support';

const suite = useBrowser();
let env: E2EEnv;
let browser: Browser;
beforeAll(() => ({ env, browser } = suite));

const STEPS = ['board', 'intake', 'reception', 'teams', 'matching', 'dispatch', 'stats'] as const;

describe('volunteer centre screens', () => {
  it('the desk, the daily sheet and the public pages are axe-clean, 48 px, and reflow at 200 % text', async () => {
    suite.ready();
    const staff = await apiSession(env.baseUrl, credentialFor(env, 'staff'));
    const centre = await staff.post<{ operation_id: string }>('/api/vc/centres/', { mode: 'drill', name: 'E2E 災害VC 画面', ...VC_BASE });
    const op = centre.operation_id;
    const base = `/api/vc/centres/${op}`;
    await staff.post(`${base}/equipment`, { code: 'shovel', quantity: 10 });
    const volunteer = (body: Record<string, unknown>) => staff.post<{ id: string }>(`${base}/volunteers`, {
      age_band: 'age_30_49', prefecture: '08', insurance: 'enrolled', insured_where: '笠間市社協', ...body,
    });
    // Not linked to the vc_volunteer account: vc-desk's report test (which checks /vc/me the same
    // way) links it in its own centre.
    const leader = await volunteer({ name: 'E2E 画面 リーダー' });
    const member = await volunteer({ name: 'E2E 画面 メンバー' });
    await volunteer({ name: 'E2E 画面 待機' });
    const need = await staff.post<{ id: string }>(`${base}/needs`, {
      requester_name: 'E2E 画面 依頼者', address: '笠間市E2E 3番地', people_needed: 2, ...VC_BASE, work_types: ['mud_out'], equipment: ['shovel'],
    });
    await staff.post(`${base}/needs`, { requester_name: 'E2E 画面 依頼者二', address: '笠間市E2E 4番地', people_needed: 3, ...VC_BASE, work_types: ['carry_out'] });
    await staff.post(`/api/vc/needs/${need.id}/state`, { state: 'waiting' });
    const team = await staff.post<{ id: string }>(`${base}/teams`, { name: 'E2E画面班', leader_id: leader.id, member_ids: [leader.id, member.id] });
    await staff.post(`${base}/dispatches`, { team_id: team.id, need_id: need.id, equipment: [{ code: 'shovel', quantity: 2 }] });

    const desk = await newDesktopContext(browser, env.baseUrl);
    const page: Page = await desk.newPage();
    await signInUi(page, credentialFor(env, 'staff'));
    await page.goto('/staff/vc');
    await page.locator(`a[href="/staff/vc/${op}/board"]`).first().waitFor();
    await expectAccessibleScreen(page, 'vc-a11y-centres');
    for (const step of STEPS) {
      await page.goto(`/staff/vc/${op}/${step}`);
      await page.locator(`[data-step="${step}"]`).waitFor();
      await page.locator('[data-drill]').waitFor();
      await expectAccessibleScreen(page, `vc-a11y-${step}`);
    }
    const day = await page.locator('[data-daily-sheet]').getAttribute('data-daily-sheet');
    await page.goto(`/staff/vc/${op}/day/${day}`);
    await page.locator('[data-print-sheet]').waitFor();
    await expectAccessibleScreen(page, 'vc-a11y-daily-sheet');
    await desk.close();

    // The public pre-registration page (no account) and its QR page.
    const visitor = await newPhoneContext(browser, env.baseUrl);
    const p3 = await visitor.newPage();
    await p3.goto(`/vc/join/${DEMO_COUNCIL}/${op}`);
    const join = p3.locator('form[data-join-form]');
    await join.waitFor();
    expect(await p3.locator('h1').textContent()).toBe('【訓練】E2E 災害VC 画面 ボランティア事前登録');
    await expectAccessibleScreen(p3, 'vc-a11y-join');
    await join.getByLabel('氏名').fill('E2E 事前 登録');
    await join.getByLabel('住所の都道府県コード（2桁）').fill('08');
    await join.getByLabel('加入した社協').fill('笠間市社協');
    // Without consent: the server's words, nothing stored.
    await join.getByRole('button', { name: '登録してQRコードを受け取る' }).click();
    await p3.locator('[role=alert]', { hasText: '同意' }).waitFor();
    await join.getByLabel('上の「個人情報の取り扱い」に同意します').check();
    await join.getByRole('button', { name: '登録してQRコードを受け取る' }).click();
    await p3.locator('[data-join-done]').waitFor();
    const token = (await p3.locator('[data-token]').textContent())!;
    expect(await p3.locator('img[data-qr]').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
    await expectAccessibleScreen(p3, 'vc-a11y-join-qr');
    await visitor.close();
    // The code on the page checks the volunteer in at the desk.
    const checked = await staff.post<{ name: string; registered_via: string }>(`${base}/checkins`, { token });
    expect(checked).toMatchObject({ name: 'E2E 事前 登録', registered_via: 'preregistration' });
  });
});
