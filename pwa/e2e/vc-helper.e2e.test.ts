// The demo's lent VC helper (応援職員, login `vcdesk`, role vc_desk; seed/demo.py) in a real
// browser (#18): signs in, lands on the desk, works the demo's open drill centre (seed/vc.py),
// sees another session's change on the live board, and is refused the registry, the console's
// safety-check map and the staff admin screens.
import type { Browser } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { apiSession, credentialFor, type E2EEnv, expectAxeClean, newDesktopContext, signInUi, useBrowser } from './support';

const suite = useBrowser();
let env: E2EEnv;
let browser: Browser;
beforeAll(() => ({ env, browser } = suite));

const DEMO_CENTRE = '笠間市災害ボランティアセンター 設置運営訓練（デモ）'; // seed/vc.py
const BASE = { lon: 140.303704, lat: 36.344592 }; // 友部公民館, the demo centre's base

interface Centre { operation_id: string; name: string; label: string; status: string }
interface Need { id: string; requester_name: string; state: string }

describe('the demo VC helper (vc_desk)', () => {
  it('lands on the desk, takes a need, sees a staff change live, and reaches nothing else', async () => {
    suite.ready();
    const staff = await apiSession(env.baseUrl, credentialFor(env, 'staff'));
    const centre = (await staff.get<Centre[]>('/api/vc/centres/')).find((c) => c.name === DEMO_CENTRE)!;
    expect(centre).toMatchObject({ status: 'active', label: '【訓練】' });
    const op = centre.operation_id;

    const context = await newDesktopContext(browser, env.baseUrl);
    const page = await context.newPage();
    await signInUi(page, credentialFor(env, 'vc_desk')); // waits for the role's landing page: /staff/vc
    const link = page.locator(`[data-centre="${op}"] a`);
    expect(await link.textContent()).toBe(`【訓練】${DEMO_CENTRE}`);
    await expectAxeClean(page, 'centres as vc_desk');
    await link.click();

    // The centre's board: the seeded needs in their columns, 【訓練】 on the screen.
    await page.waitForURL((url) => url.pathname === `/staff/vc/${op}/board`);
    await page.locator('[data-drill]').waitFor();
    await page.locator('[data-column="waiting"] [data-need]').first().waitFor();
    expect(await page.locator('[data-board] [data-need]').count()).toBeGreaterThanOrEqual(7);
    await page.locator('[data-live="on"]').waitFor();
    await expectAxeClean(page, 'board as vc_desk');

    // Takes a need at the intake tab (duplicates asked first, as the form requires).
    await page.getByRole('link', { name: 'ニーズ受付' }).click();
    const form = page.locator('form[data-intake]');
    await form.waitFor();
    await form.getByLabel('依頼者の氏名').fill('E2E 応援 受付');
    await form.getByLabel('電話番号').fill('0296-77-0101');
    await form.getByLabel('住所').fill('茨城県笠間市中央三丁目E2E');
    await form.getByLabel('緯度').fill(String(BASE.lat + 0.003));
    await form.getByLabel('経度').fill(String(BASE.lon + 0.003));
    await form.getByRole('button', { name: '重複を確認' }).click();
    await page.locator('[data-dupes]').waitFor();
    await form.getByRole('button', { name: '新しいニーズとして登録' }).click();
    await page.locator('[data-notice]', { hasText: 'ニーズを登録しました。' }).waitFor();
    const taken = (await staff.get<Need[]>(`/api/vc/centres/${op}/needs`)).find((n) => n.requester_name === 'E2E 応援 受付')!;
    expect(taken.state).toBe('received');

    // The board, live: staff (another session) moves the new need to マッチ待ち; it moves here unreloaded.
    await page.getByRole('link', { name: 'ニーズボード' }).click();
    await page.locator(`[data-column="received"] [data-need="${taken.id}"]`).waitFor();
    await page.locator('[data-live="on"]').waitFor();
    await page.evaluate(() => ((window as unknown as { e2eNotReloaded: boolean }).e2eNotReloaded = true));
    await staff.post(`/api/vc/needs/${taken.id}/state`, { state: 'waiting' });
    await page.locator(`[data-column="waiting"] [data-need="${taken.id}"]`).waitFor();
    expect(await page.evaluate(() => (window as unknown as { e2eNotReloaded?: boolean }).e2eNotReloaded)).toBe(true);

    // Nothing else: the registry, the console's map of the past safety-check drill, staff admin.
    const drill = (await staff.get<Array<{ id: string; kind: string }>>('/api/operations')).find((o) => o.kind === 'safety_check')!;
    for (const path of ['/staff/registry', '/staff/users', '/staff/audit']) {
      await page.goto(path);
      await page.locator('[role=alert]', { hasText: 'この画面は社協職員・管理者・コーディネーター用です。' }).waitFor();
    }
    await page.goto(`/console/op/${drill.id}`);
    await page.locator('[role=alert]', { hasText: 'この画面は職員・コーディネーター・民生委員のみ利用できます。' }).waitFor();
    await page.goto('/console');
    await page.locator('[role=alert]', { hasText: 'この画面は職員・コーディネーター・民生委員のみ利用できます。' }).waitFor();
    await context.close();
  });

  it("the coordinator's console list shows the centre's open needs and today's volunteers, not 「対象 0世帯」", async () => {
    suite.ready();
    const staff = await apiSession(env.baseUrl, credentialFor(env, 'staff'));
    const centre = (await staff.get<Array<Centre & { figures: { open_needs: number; waiting_needs: number; volunteers_today: number } }>>('/api/vc/centres/'))
      .find((c) => c.name === DEMO_CENTRE)!;
    const op = centre.operation_id;
    const { open_needs: open, waiting_needs: waiting, volunteers_today: people } = centre.figures;
    expect(open).toBeGreaterThanOrEqual(7);
    const context = await newDesktopContext(browser, env.baseUrl);
    const page = await context.newPage();
    await signInUi(page, credentialFor(env, 'coordinator')); // lands on /console
    const row = page.locator(`[data-vc-figures="${op}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain(`未完了ニーズ ${open}件（マッチ待ち ${waiting}件） · 本日のボランティア ${people}人`);
    expect(await row.textContent()).not.toContain('対象');
    await expectAxeClean(page, 'console list with a centre');
    await context.close();
  });
});
