// The volunteer centre (#18) in a real browser: QR reception through Chromium's fake camera (a
// y4m video made in the test from the QR the public page returns), the typed fallback with the
// camera denied, and a leader's report recorded offline on a phone arriving exactly once.
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiSession,
  apiSession,
  credentialFor,
  DEMO_COUNCIL,
  type E2EEnv,
  expectAccessibleScreen,
  expectAxeClean,
  launchBrowser,
  newDesktopContext,
  newPhoneContext,
  shot,
  signInUi,
  unlockWithPin,
  useBrowser,
  VC_BASE,
  WAIT_LIMIT_MS,
  waitForServiceWorker,
} from './support';

const suite = useBrowser();
let env: E2EEnv;
let browser: Browser;
beforeAll(() => ({ env, browser } = suite));

interface Centre { operation_id: string; label: string }
interface Registration { token: string; qr_svg: string }

/** The kinds of the records in the device's outbox (IndexedDB `tonari`, table `outbox`). */
function outboxKinds(page: Page): Promise<string[]> {
  return page.evaluate(() => new Promise<string[]>((resolve, reject) => {
    const open = indexedDB.open('tonari');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const all = open.result.transaction('outbox').objectStore('outbox').getAll();
      all.onerror = () => reject(all.error);
      all.onsuccess = () => {
        open.result.close();
        resolve((all.result as Array<{ payload: { type: string } }>).map((r) => r.payload.type));
      };
    };
  }));
}

const WIDTH = 640;
const HEIGHT = 480;

/** A drill centre (its figures never count) with some stock, as staff through the API. */
async function openDrillCentre(staff: ApiSession, name: string): Promise<string> {
  const centre = await staff.post<Centre>('/api/vc/centres/', { mode: 'drill', name, ...VC_BASE });
  expect(centre.label).toBe('【訓練】');
  await staff.post(`/api/vc/centres/${centre.operation_id}/equipment`, { code: 'shovel', quantity: 10 });
  return centre.operation_id;
}

/** A pre-registration through the public page (no account): the answer holds the token and its QR. */
async function preRegister(op: string, name: string): Promise<Registration> {
  const notice = (await (await fetch(`${env.baseUrl}/api/public/vc/${DEMO_COUNCIL}/${op}/privacy-notice`)).json()) as { version: string };
  // No account, but the same CSRF echo as any browser form.
  const csrf = (await fetch(`${env.baseUrl}/api/auth/csrf`)).headers.getSetCookie().map((c) => c.split(';')[0]!).find((c) => c.startsWith('tonari_csrf='))!;
  const res = await fetch(`${env.baseUrl}/api/public/vc/${DEMO_COUNCIL}/${op}/registrations`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json', Accept: 'application/json', Cookie: csrf,
      'X-CSRF-Token': decodeURIComponent(csrf.slice('tonari_csrf='.length)),
    },
    body: JSON.stringify({
      name, age_band: 'age_30_49', prefecture: '08', insurance: 'enrolled', insured_where: '笠間市社協',
      privacy_consent: true, privacy_notice: notice.version,
    }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as Registration;
}

/**
 * The QR as a y4m video (the format Chromium's fake camera plays). Debian's ffmpeg is not on these
 * machines, so the browser rasterises the server's SVG on a canvas and the test writes the frames:
 * the luma plane is the picture, the chroma planes are flat grey (4:2:0).
 */
async function qrVideo(svg: string): Promise<string> {
  const page = await browser.newPage();
  const gray = await page.evaluate(async ({ svg, w, h }) => {
    const img = new Image();
    img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = h;
    const g = canvas.getContext('2d')!;
    g.fillStyle = '#fff';
    g.fillRect(0, 0, w, h);
    g.imageSmoothingEnabled = false;
    const side = 400;
    g.drawImage(img, (w - side) / 2, (h - side) / 2, side, side);
    const rgba = g.getImageData(0, 0, w, h).data;
    const out: number[] = [];
    for (let i = 0; i < rgba.length; i += 4) out.push(Math.round(0.299 * rgba[i]! + 0.587 * rgba[i + 1]! + 0.114 * rgba[i + 2]!));
    return out;
  }, { svg, w: WIDTH, h: HEIGHT });
  await page.close();
  const luma = Buffer.from(gray);
  const chroma = Buffer.alloc((WIDTH / 2) * (HEIGHT / 2), 128);
  const frame = Buffer.concat([Buffer.from('FRAME\n'), luma, chroma, chroma]);
  const dir = join(tmpdir(), `tonari-vc-e2e-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'qr.y4m');
  writeFileSync(file, Buffer.concat([Buffer.from(`YUV4MPEG2 W${WIDTH} H${HEIGHT} F10:1 Ip A1:1 C420jpeg\n`), ...Array(10).fill(frame)]));
  return file;
}

describe('volunteer centre', () => {
  let camera: Browser | null = null;
  afterAll(async () => {
    await camera?.close();
  });

  it('QR reception: the fake camera reads the pre-registration and the volunteer is checked in; typed fallback with the camera denied', async () => {
    suite.ready();
    const staff = await apiSession(env.baseUrl, credentialFor(env, 'staff'));
    const op = await openDrillCentre(staff, 'E2E 災害VC 受付');
    const scanned = await preRegister(op, 'E2E カメラ 太郎');
    const typed = await preRegister(op, 'E2E 手入力 花子');
    expect(scanned.qr_svg).not.toContain('カメラ');

    // 1. The camera: Chromium plays the QR video as the webcam and grants it without asking.
    const video = await qrVideo(scanned.qr_svg);
    camera = await launchBrowser(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${video}`]);
    const desk = await newDesktopContext(camera, env.baseUrl);
    const page = await desk.newPage();
    await signInUi(page, credentialFor(env, 'staff'));
    await page.goto(`/staff/vc/${op}/reception`);
    await page.locator('[data-drill]').waitFor();
    expect(await page.locator('[data-step]').textContent()).toContain('【訓練】');
    await expectAxeClean(page, 'reception');
    await page.getByRole('button', { name: 'カメラで読み取る' }).click();
    await page.locator('[data-notice]', { hasText: 'E2E カメラ 太郎さんを受付しました。' }).waitFor({ timeout: WAIT_LIMIT_MS * 2 });
    await page.locator('[data-checked-in] li', { hasText: 'E2E カメラ 太郎' }).waitFor();
    await shot(page, 'vc-reception-camera');
    await desk.close();

    // 2. No camera permission: the typed code checks the second volunteer in.
    const denied = await newDesktopContext(browser, env.baseUrl);
    const p2 = await denied.newPage();
    await signInUi(p2, credentialFor(env, 'staff'));
    await p2.goto(`/staff/vc/${op}/reception`);
    await p2.getByRole('button', { name: 'カメラで読み取る' }).click();
    await p2.locator('[data-scan-status]', { hasText: 'カメラを使えません' }).waitFor();
    await p2.getByLabel('受付番号（QRコードの文字）').fill(typed.token);
    await p2.getByRole('button', { name: '受付する', exact: true }).click();
    await p2.locator('[data-notice]', { hasText: 'E2E 手入力 花子さんを受付しました。' }).waitFor();
    await expectAxeClean(p2, 'reception after check-in');

    // A walk-in aged 17: refused without a guardian's consent (the server's message), accepted with it.
    const walkin = p2.locator('form[data-walkin]');
    await walkin.getByLabel('氏名').fill('E2E 高校 次郎');
    await walkin.getByLabel('年齢').selectOption('age_16_17');
    await walkin.getByLabel('住所の都道府県コード（2桁）').fill('08');
    await walkin.getByLabel('加入した社協').fill('笠間市社協');
    await walkin.getByRole('button', { name: '登録して受付' }).click();
    await p2.locator('[role=alert]', { hasText: '保護者の同意が必要です' }).waitFor();
    await walkin.getByLabel('保護者の同意（保護者名）').fill('E2E 保護者');
    await walkin.getByRole('button', { name: '登録して受付' }).click();
    await p2.locator('[data-notice]', { hasText: 'E2E 高校 次郎さんを受付しました。' }).waitFor();
    await expectAxeClean(p2, 'walk-in');
    await denied.close();

    const today = await staff.get<Array<{ name: string; registered_via: string }>>(`/api/vc/centres/${op}/volunteers`);
    expect(today.map((v) => v.name).sort()).toEqual(['E2E カメラ 太郎', 'E2E 手入力 花子', 'E2E 高校 次郎'].sort());
  });

  it('the desk: duplicates shown before saving, the board moves live, every step is axe-clean and 【訓練】', async () => {
    suite.ready();
    const staff = await apiSession(env.baseUrl, credentialFor(env, 'staff'));
    const op = await openDrillCentre(staff, 'E2E 災害VC 机');
    const base = `/api/vc/centres/${op}`;
    const first = await staff.post<{ id: string }>(`${base}/needs`, {
      requester_name: 'E2E 田中 一郎', requester_kana: 'タナカ イチロウ', phone: '0296-70-9999', address: '笠間市E2E 2番地',
      people_needed: 3, ...VC_BASE, work_types: ['mud_out'],
    });
    const context = await newDesktopContext(browser, env.baseUrl);
    const page = await context.newPage();
    await signInUi(page, credentialFor(env, 'staff'));

    // Intake: the same household calls again (full-width phone, hiragana, a pin ~10 m off).
    await page.goto(`/staff/vc/${op}/intake`);
    const form = page.locator('form[data-intake]');
    await form.waitFor();
    expect(await form.getByRole('button', { name: '新しいニーズとして登録' }).isDisabled()).toBe(true);
    await form.getByLabel('依頼者の氏名').fill('田中 一郎');
    await form.getByLabel('ふりがな').fill('たなか いちろう');
    await form.getByLabel('電話番号').fill('０２９６ー７０ー９９９９');
    await form.getByLabel('住所').fill('笠間市E2E 2番地');
    await form.getByLabel('緯度').fill(String(VC_BASE.lat));
    await form.getByLabel('経度').fill(String(VC_BASE.lon + 0.0001));
    await form.getByRole('button', { name: '重複を確認' }).click();
    const dupe = page.locator(`[data-dupes="1"] [data-dupe="${first.id}"]`);
    await dupe.waitFor();
    expect(await dupe.textContent()).toContain('電話番号が同じ');
    await expectAxeClean(page, 'intake with duplicates');

    // The board: the need is 受付; moved to マッチ待ち by another desk, it moves here live.
    await page.goto(`/staff/vc/${op}/board`);
    await page.locator(`[data-column="received"] [data-need="${first.id}"]`).waitFor();
    await page.locator('[data-live="on"]').waitFor();
    await expectAxeClean(page, 'board');
    await staff.post(`/api/vc/needs/${first.id}/state`, { state: 'waiting' });
    await page.locator(`[data-column="waiting"] [data-need="${first.id}"]`).waitFor();

    // A site survey from the board: the second need goes to マッチ待ち.
    const second = await staff.post<{ id: string }>(`${base}/needs`, {
      requester_name: 'E2E 鈴木 花', requester_kana: 'スズキ ハナ', phone: '0296-70-8888', address: '笠間市E2E 3番地',
      people_needed: 2, lon: VC_BASE.lon + 0.02, lat: VC_BASE.lat, work_types: ['cleaning'],
    });
    await page.reload();
    const card = page.locator(`[data-column="received"] [data-need="${second.id}"]`);
    await card.getByRole('button', { name: '現地調査' }).click();
    const survey = card.locator('form[data-survey-form]');
    await survey.getByLabel('調査結果').selectOption('needed');
    await survey.getByLabel('調査者').fill('E2E 調査員');
    await survey.getByRole('button', { name: '調査を記録' }).click();
    await page.locator(`[data-column="waiting"] [data-need="${second.id}"]`).waitFor();

    // Teams: two volunteers checked in (API), the team formed on the screen.
    for (const name of ['E2E 机 一', 'E2E 机 二']) {
      await staff.post(`${base}/volunteers`, { name, age_band: 'age_30_49', prefecture: '08', insurance: 'enrolled', insured_where: '笠間市社協' });
    }
    await page.goto(`/staff/vc/${op}/teams`);
    const teamForm = page.locator('form[data-team-form]');
    await teamForm.waitFor();
    await teamForm.getByLabel('班の名前').fill('E2E机班');
    await teamForm.getByLabel('リーダー').selectOption({ label: 'E2E 机 一' });
    await teamForm.getByLabel('E2E 机 二').check();
    await teamForm.getByRole('button', { name: '班を作る' }).click();
    await page.locator('[data-teams] li', { hasText: 'E2E机班' }).waitFor();
    await expectAxeClean(page, 'teams');

    // Matching: suggestions with their reasons; the choice is carried to the dispatch tab.
    await page.goto(`/staff/vc/${op}/matching`);
    const suggestion = page.locator('[data-match-team] [data-suggestion]').first();
    await suggestion.waitFor();
    const reasons = await suggestion.locator('[data-reasons]').textContent();
    expect(reasons).toContain('人数');
    expect(reasons).toContain(' km');
    await expectAxeClean(page, 'matching');
    const chosenNeed = await suggestion.getAttribute('data-suggestion');
    await suggestion.getByRole('button', { name: /このニーズに決める/ }).click();

    // Dispatch from the desk; after a reload the returns list still shows the team, and its report brings all back.
    const send = page.locator('form[data-dispatch-form]');
    await send.waitFor();
    expect(await send.getByLabel('ニーズ').inputValue()).toBe(chosenNeed);
    expect(await send.getByLabel('班').locator('option:checked').textContent()).toBe('E2E机班 (2)');
    await send.getByLabel('スコップ').fill('2');
    await send.getByRole('button', { name: '送り出す' }).click();
    await page.locator('[data-notice]', { hasText: '送り出しました。' }).waitFor();
    await page.reload();
    const out = page.locator('[data-dispatch]');
    await out.waitFor();
    expect(await page.locator('[data-ledger] tr[data-item="shovel"] td').first().textContent()).toBe('8');
    await expectAxeClean(page, 'dispatch');
    // One shovel back early; the report brings back what is still out.
    await out.getByLabel('スコップ 返却').fill('1');
    await out.getByRole('button', { name: '返却・紛失を記録' }).click();
    await page.locator('[data-notice]', { hasText: '返却を記録しました。' }).waitFor();
    expect(await page.locator('[data-ledger] tr[data-item="shovel"] td').first().textContent()).toBe('9');
    await out.getByLabel('活動時間').fill('3');
    await out.getByRole('button', { name: '報告して全部返却' }).click();
    await page.locator('[data-notice]', { hasText: '報告を受け付けました。' }).waitFor();
    expect(await page.locator('[data-ledger] tr[data-item="shovel"] td').first().textContent()).toBe('10');
    expect(await page.locator('[data-dispatch]').count()).toBe(0);

    for (const step of ['reception', 'teams', 'matching', 'dispatch', 'stats']) {
      await page.goto(`/staff/vc/${op}/${step}`);
      await page.locator(`[data-step="${step}"]`).waitFor();
      expect(await page.locator(`[data-step="${step}"]`).textContent()).toMatch(/^【訓練】/);
      await page.locator('[data-drill]').waitFor();
      await expectAxeClean(page, step);
    }
    expect(await page.locator('[data-csv]').getAttribute('href')).toBe(`${base}/statistics.csv`);
    await context.close();
  });

  it("a leader's report recorded offline on the phone arrives exactly once after reconnecting", async () => {
    suite.ready();
    const staff = await apiSession(env.baseUrl, credentialFor(env, 'staff'));
    const leaderCred = credentialFor(env, 'vc_volunteer');
    const me = await (await apiSession(env.baseUrl, leaderCred)).get<{ id: string }>('/api/auth/me');
    const op = await openDrillCentre(staff, 'E2E 災害VC 報告');
    const base = `/api/vc/centres/${op}`;
    const volunteer = (body: Record<string, unknown>) => staff.post<{ id: string }>(`${base}/volunteers`, {
      age_band: 'age_30_49', prefecture: '08', insurance: 'enrolled', insured_where: '笠間市社協', ...body,
    });
    const leader = await volunteer({ name: 'E2E リーダー', user_id: me.id });
    const member = await volunteer({ name: 'E2E メンバー' });
    const need = await staff.post<{ id: string }>(`${base}/needs`, {
      requester_name: 'E2E 依頼者', address: '笠間市E2E 1番地', people_needed: 2, ...VC_BASE, work_types: ['mud_out'],
    });
    await staff.post(`/api/vc/needs/${need.id}/state`, { state: 'waiting' });
    const team = await staff.post<{ id: string }>(`${base}/teams`, { name: 'E2E班', leader_id: leader.id, member_ids: [leader.id, member.id] });
    await staff.post(`${base}/dispatches`, { team_id: team.id, need_id: need.id, equipment: [{ code: 'shovel', quantity: 2 }] });

    const phone = await newPhoneContext(browser, env.baseUrl);
    const page = await phone.newPage();
    await signInUi(page, leaderCred);
    await page.locator('[data-vc-me]').click();
    const form = page.locator('form[data-report-form]');
    await form.waitFor();
    expect(await page.locator('[data-address]').textContent()).toBe('笠間市E2E 1番地');
    expect(await page.locator('[data-call="119"]').getAttribute('href')).toBe('tel:119');
    // As accessible as the rest (axe, 48 px, 200 % text), with the 継続 field open too.
    await expectAccessibleScreen(page, 'vc-a11y-me');
    await form.getByLabel('継続（明日も必要）').check();
    await form.getByLabel('残っている作業').waitFor();
    await expectAccessibleScreen(page, 'vc-a11y-me-continued');
    await form.getByLabel('完了').check();
    await waitForServiceWorker(page); // the app shell must load with no signal

    await phone.setOffline(true);
    await form.getByLabel('活動時間').fill('3');
    await form.getByLabel('行った作業').fill('泥出し');
    await form.getByRole('button', { name: '報告を送る' }).click();
    await page.locator('[data-notice]', { hasText: '端末に保存' }).waitFor();
    // Pressed again while still offline: still one report (one client id), in the one outbox.
    await form.getByRole('button', { name: '報告を送る' }).click();
    expect(await outboxKinds(page)).toEqual(['vc_report']);
    await page.locator('[data-outbox-count][data-count="1"]').waitFor();

    // Kept across a reload with no signal: the page comes back from the device (PIN, sealed copy).
    await page.reload();
    await unlockWithPin(page);
    await page.waitForURL((url) => url.pathname === '/vc/me');
    await page.locator('[data-offline]').waitFor();
    await page.locator('[data-notice]', { hasText: '端末に保存' }).waitFor();
    expect(await outboxKinds(page)).toEqual(['vc_report']);

    await phone.setOffline(false);
    await page.getByText('この活動は報告済みです。').waitFor();
    await page.locator('[data-outbox-count][data-count="0"]').waitFor();
    expect(await outboxKinds(page)).toEqual([]);
    await shot(page, 'vc-phone-reported');
    await phone.close();

    const closed = await staff.get<{ state: string }>(`/api/vc/needs/${need.id}`);
    expect(closed.state).toBe('done');
    const ledger = await staff.get<Array<{ code: string; stock: number; out: number }>>(`${base}/equipment`);
    expect(ledger.find((e) => e.code === 'shovel')).toMatchObject({ stock: 10, out: 0 });
    const stats = await staff.get<{ days: Array<{ activities: number; needs_closed: number }> }>(`${base}/statistics`);
    expect(stats.days.at(-1)).toMatchObject({ activities: 1, needs_closed: 1 });
  });
  it('prints the A4 daily sheet of a drill day from the statistics: 【訓練】, the figures, 10.5 pt, page numbers', async () => {
    suite.ready();
    const staff = await apiSession(env.baseUrl, credentialFor(env, 'staff'));
    const op = await openDrillCentre(staff, 'E2E 災害VC 日報');
    const base = `/api/vc/centres/${op}`;
    const volunteer = (body: Record<string, unknown>) => staff.post(`${base}/volunteers`, {
      age_band: 'age_30_49', insurance: 'enrolled', insured_where: '笠間市社協', ...body,
    });
    await volunteer({ name: 'E2E 日報 個人', prefecture: '08' });
    await volunteer({ name: 'E2E 日報 県外', prefecture: '13' });
    await volunteer({ name: 'E2E 日報 団体', prefecture: '08', kind: 'group', group_name: 'E2E 日報会', group_size: 8 });
    for (const work of [['mud_out', 'carry_out'], ['mud_out']]) {
      await staff.post(`${base}/needs`, { requester_name: 'E2E 日報 依頼者', address: '笠間市E2E 2番地', people_needed: 2, ...VC_BASE, work_types: work });
    }
    const stats = await staff.get<{ days: Array<{ vc_day: string; volunteers: number; out_of_prefecture: number; needs_received: number }> }>(`${base}/statistics`);
    const day = stats.days.at(-1)!;
    expect(day).toMatchObject({ volunteers: 10, out_of_prefecture: 1, needs_received: 2 });

    const context = await newDesktopContext(browser, env.baseUrl);
    const page = await context.newPage();
    await signInUi(page, credentialFor(env, 'staff'));
    await page.goto(`/staff/vc/${op}/stats`);
    await page.locator(`[data-daily-sheet="${day.vc_day}"]`).click();
    await page.waitForURL((url) => url.pathname === `/staff/vc/${op}/day/${day.vc_day}`);
    const sheet = page.locator('[data-print-sheet]');
    await sheet.waitFor();
    expect(await page.locator('[data-sheet-title]').textContent()).toBe('【訓練】E2E 災害VC 日報 振り返り日報');
    await page.locator('[data-drill]').waitFor();
    const figure = (key: string) => page.locator(`[data-figure="${key}"] td`).textContent();
    expect(await figure('volunteers')).toBe('10');
    expect(await figure('group')).toBe('8');
    expect(await figure('out_of_prefecture')).toBe('1');
    expect(await figure('needs_received')).toBe('2');
    expect(await page.locator('[data-sheet-work] tbody tr').allTextContents()).toEqual(['泥出し2', '家財搬出1']);
    expect(await page.locator('caption').allTextContents()).toEqual(expect.arrayContaining([expect.stringMatching(/^【訓練】/)]));
    await expectAxeClean(page, 'daily sheet');

    await page.emulateMedia({ media: 'print' });
    // A4's printable width (190 mm at 96 dpi), as the district list's print test.
    await page.setViewportSize({ width: 718, height: 1032 });
    expect(await page.locator('.staff-nav').isVisible()).toBe(false);
    expect(await page.locator('[data-action="print"]').isVisible()).toBe(false);
    const layout = await page.evaluate(async () => {
      const sheetEl = document.querySelector('[data-print-sheet]')!;
      const texts = [...sheetEl.querySelectorAll('th, td, caption, p, h2')].filter((e) => (e.textContent ?? '').trim() !== '');
      const numbers = [...sheetEl.querySelectorAll('td.number')];
      const css = await Promise.all([...document.querySelectorAll<HTMLLinkElement>('link[rel="stylesheet"]')].map(async (l) => (await fetch(l.href)).text()));
      const inline = [...document.querySelectorAll('style')].map((s) => s.textContent ?? '');
      return {
        smallestText: Math.min(...texts.map((e) => parseFloat(getComputedStyle(e).fontSize))),
        numbers: numbers.length,
        numbersOneLine: numbers.every((n) => getComputedStyle(n).whiteSpace === 'nowrap'
          && n.getBoundingClientRect().height < 2 * parseFloat(getComputedStyle(n).fontSize) * 1.35 + 8),
        height: sheetEl.getBoundingClientRect().height,
        pageNumbers: [...css, ...inline].filter((t) => t.includes('@bottom-center')).join(' '),
      };
    });
    expect(layout.smallestText).toBeGreaterThanOrEqual(14); // 10.5 pt = 14 px
    expect(layout.numbers).toBeGreaterThanOrEqual(10);
    expect(layout.numbersOneLine).toBe(true);
    expect(layout.height).toBeLessThan(1032); // one A4 page
    expect(layout.pageNumbers).toContain('counter(pages)');
    expect(layout.pageNumbers).toContain('ページ');
    await page.screenshot({ path: fileURLToPath(new URL('./artifacts/vc-daily-sheet.png', import.meta.url)), clip: { x: 0, y: 0, width: 718, height: 1032 } });
    await context.close();
  });
});
