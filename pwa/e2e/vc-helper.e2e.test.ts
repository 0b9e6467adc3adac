// The demo's lent VC helper (応援職員, login `vcdesk`, role vc_desk; seed/demo.py) in a real
// browser (#18): signs in, lands on the desk, works the demo's open drill centre (seed/vc.py),
// sees another session's change on the live board, and is refused the registry, the console's
// safety-check map and the staff admin screens.
import type { Browser } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { apiSession, credentialFor, type E2EEnv, expectAxeClean, newDesktopContext, newPhoneContext, signInUi, useBrowser } from './support';

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

  it('the desk publishes the pre-registration link: copy, QR, A4 poster (【訓練】), opened by an anonymous visitor; a closed centre has none', async () => {
    suite.ready();
    const staff = await apiSession(env.baseUrl, credentialFor(env, 'staff'));
    const op = (await staff.get<Centre[]>('/api/vc/centres/')).find((c) => c.name === DEMO_CENTRE)!.operation_id;
    const context = await newDesktopContext(browser, env.baseUrl);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: env.baseUrl });
    const page = await context.newPage();
    await signInUi(page, credentialFor(env, 'vc_desk'));
    await page.goto(`/staff/vc/${op}/reception`);
    const section = page.locator('[data-join-link="open"]');
    await section.waitFor();
    expect(await section.locator('h2').textContent()).toBe('【訓練】事前登録の案内');
    const url = await page.getByLabel('事前登録ページのアドレス').inputValue();
    expect(url).toBe(`${env.baseUrl}/vc/join/08216/${op}`);
    await page.getByRole('button', { name: 'アドレスをコピー' }).click();
    await page.locator('[data-copy-status]', { hasText: 'アドレスをコピーしました。' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(url);
    expect(await page.locator('img[data-join-qr]').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
    await expectAxeClean(page, 'reception with the pre-registration link');

    // The A4 poster: 【訓練】 in the banner and the title, the QR and the address.
    await page.getByRole('link', { name: 'A4ポスターを印刷' }).click();
    await page.locator('[data-poster]').waitFor();
    expect(await page.locator('[data-poster-title]').textContent()).toBe('【訓練】ボランティア事前登録のご案内');
    await page.locator('[data-poster] [data-drill]').waitFor();
    expect(await page.locator('[data-poster-url]').textContent()).toBe(url);
    expect(await page.locator('img[data-poster-qr]').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
    await expectAxeClean(page, 'poster');
    await context.close();

    // The address, opened by someone with no account: the centre's public page.
    const visitor = await newDesktopContext(browser, env.baseUrl);
    const anon = await visitor.newPage();
    await anon.goto(url);
    await anon.locator('form[data-join-form]').waitFor();
    expect(await anon.locator('h1').textContent()).toBe(`【訓練】${DEMO_CENTRE} ボランティア事前登録`);
    await visitor.close();

    // A closed centre publishes nothing.
    const closed = await staff.post<Centre>('/api/vc/centres/', { mode: 'real', name: 'E2E 閉所したセンター', ...BASE });
    await staff.post(`/api/vc/centres/${closed.operation_id}/close`, {});
    const again = await newDesktopContext(browser, env.baseUrl);
    const p2 = await again.newPage();
    await signInUi(p2, credentialFor(env, 'vc_desk'));
    await p2.goto(`/staff/vc/${closed.operation_id}/reception`);
    await p2.locator('[data-join-link="closed"]', { hasText: '閉所しているため' }).waitFor();
    expect(await p2.locator('[data-join-url]').count()).toBe(0);
    await p2.goto(`/staff/vc/${closed.operation_id}/print/poster`);
    await p2.locator('[data-join-link="closed"]').waitFor();
    expect(await p2.locator('[data-poster]').count()).toBe(0);
    await again.close();
  });

  it("one volunteer login at a real and a drill centre: the phone shows one centre at a time, each marked as it is", async () => {
    suite.ready();
    const staff = await apiSession(env.baseUrl, credentialFor(env, 'staff'));
    const cred = credentialFor(env, 'vc_volunteer');
    const me = await (await apiSession(env.baseUrl, cred)).get<{ id: string }>('/api/auth/me');
    // The demo links this login at the demo's drill centre (seed/vc.py); a real centre opens and links it too.
    const real = await staff.post<Centre>('/api/vc/centres/', { mode: 'real', name: 'E2E 実センター', ...BASE });
    await staff.post(`/api/vc/centres/${real.operation_id}/volunteers`, {
      name: 'E2E 二か所', age_band: 'age_30_49', prefecture: '08', insurance: 'enrolled', insured_where: '笠間市社協', user_id: me.id,
    });
    const phone = await newPhoneContext(browser, env.baseUrl);
    const page = await phone.newPage();
    await signInUi(page, cred);
    await page.locator('[data-vc-me]').click();
    // The newest open centre first: the real one, with no 【訓練】 anywhere.
    const centre = page.locator('[data-me-centre]');
    await page.locator(`[data-me-centre="${real.operation_id}"]`).waitFor();
    expect(await centre.textContent()).toBe('E2E 実センター');
    expect(await page.locator('[data-drill]').count()).toBe(0);
    await expectAxeClean(page, 'vc/me with two centres');
    // Switched to the drill: its own answer, marked 【訓練】.
    await page.getByRole('button', { name: `【訓練】${DEMO_CENTRE}` }).click();
    await page.locator('[data-drill]').waitFor();
    expect(await centre.textContent()).toBe(`【訓練】${DEMO_CENTRE}`);
    expect(await page.locator('h1').textContent()).toMatch(/^【訓練】/);
    await page.locator('[data-other-centres] button', { hasText: 'E2E 実センター' }).waitFor();
    await phone.close();
    await staff.post(`/api/vc/centres/${real.operation_id}/close`, {}); // leaves the other specs' /vc/me as it was
  });
});
