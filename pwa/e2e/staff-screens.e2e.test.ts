// The staff screens other than imports (issue #6), signed in as staff at 1280×800: operations
// (a drill is 【訓練】, a real one needs an explicit confirmation), disaster mode declared with a
// confirmation dialog, a safety check started from it, lifted again; the audit log viewer finds
// those actions by filter, in Japanese; the printable district list is audited; axe-core is clean
// on every screen.
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiSession,
  apiSession,
  credentialFor,
  type E2EEnv,
  expectAxeClean,
  shot,
  useSignedInDesktop,
} from './support';


interface District { id: string; name: string; level: string; parent_id: string | null }

const desk = useSignedInDesktop('staff');
let env: E2EEnv;
let page: Page;
let staffApi: ApiSession;
beforeAll(() => ({ env, page, api: staffApi } = desk));

/** Clicks `button` and waits for the audit table of the next answer (not the one on screen). */
async function auditSearch(click: () => Promise<void>): Promise<void> {
  const gen = Number((await page.locator('table[data-audit-table]').getAttribute('data-generation')) ?? '0');
  await click();
  await page.waitForFunction((g) => Number(document.querySelector('table[data-audit-table]')?.getAttribute('data-generation') ?? '0') > g, gen);
}

async function confirmDialog(ack = true): Promise<void> {
  const dialog = page.locator('dialog[data-dialog="confirm"]');
  await dialog.waitFor();
  await expectAxeClean(page);
  if (ack) await dialog.locator('#confirm-ack').check();
  await dialog.locator('[data-action="confirm"]').click();
  await dialog.waitFor({ state: 'detached' });
}

describe('staff screens', () => {
  it('operations: a drill is created as 【訓練】 and started; a real one asks for confirmation first', async () => {
    const districts = await staffApi.get<District[]>('/api/districts');
    const branch = districts.find((d) => d.level === 'branch')!;
    await page.goto('/staff/operations');
    await page.getByRole('heading', { level: 1, name: '活動と災害モード' }).waitFor();
    await page.locator('form[data-form="operation"]').waitFor();
    await expectAxeClean(page);

    // A drill: no confirmation, marked 【訓練】 everywhere.
    const form = page.locator('form[data-form="operation"]');
    await form.getByLabel('活動名').fill('E2E 安否確認訓練');
    await form.locator(`#op-district-${branch.id}`).check();
    await form.getByLabel('作成と同時に開始する').check();
    await form.getByRole('button', { name: '作成する' }).click();
    await page.locator('[data-notice]').waitFor();
    expect(await page.locator('[data-notice]').textContent()).toContain('【訓練】E2E 安否確認訓練');
    const drillRow = page.locator('table[data-ops-table] tbody tr', { hasText: 'E2E 安否確認訓練' });
    expect(await drillRow.getAttribute('data-status')).toBe('active');
    expect(await drillRow.locator('th').textContent()).toBe('【訓練】E2E 安否確認訓練');

    // A real one: the dialog comes first; cancelling creates nothing.
    await form.getByLabel('実災害・本番').check();
    await form.getByLabel('活動名').fill('E2E 本番見守り');
    await form.locator(`#op-district-${branch.id}`).check();
    await form.getByLabel('作成と同時に開始する').uncheck();
    await form.getByRole('button', { name: '作成する' }).click();
    const dialog = page.locator('dialog[data-dialog="confirm"]');
    await dialog.waitFor();
    await dialog.locator('[data-action="cancel"]').click();
    await dialog.waitFor({ state: 'detached' });
    expect((await staffApi.get<Array<{ name: string }>>('/api/operations')).some((o) => o.name === 'E2E 本番見守り')).toBe(false);
    await form.getByRole('button', { name: '作成する' }).click();
    // Confirming without ticking the acknowledgement is refused inside the dialog.
    await dialog.locator('[data-action="confirm"]').click();
    await dialog.getByText('確認のチェックを入れてください。').waitFor();
    await dialog.locator('#confirm-ack').check();
    await dialog.locator('[data-action="confirm"]').click();
    await page.locator('table[data-ops-table] tbody tr', { hasText: 'E2E 本番見守り' }).waitFor();
    const real = (await staffApi.get<Array<{ name: string; mode: string; status: string }>>('/api/operations')).find((o) => o.name === 'E2E 本番見守り')!;
    expect([real.mode, real.status]).toEqual(['real', 'draft']);

    // Close the drill (with its own confirmation). A watcher's phone still holds records for it:
    // the dialog says whose and how many, and closing needs an explicit acknowledgement (#17).
    const drillOp = (await staffApi.get<Array<{ id: string; name: string }>>('/api/operations')).find((o) => o.name === 'E2E 安否確認訓練')!;
    const watcherApi = await apiSession(desk.env.baseUrl, credentialFor(desk.env, 'watcher'));
    await watcherApi.put('/api/devices/unsent', { operations: [{ operation_id: drillOp.id, waiting: 2, refused: 1 }] });
    await drillRow.locator('[data-action="close"]').click();
    await dialog.waitFor();
    await dialog.getByText('未送信の記録が残っています', { exact: false }).waitFor();
    expect(await dialog.textContent()).toContain('未送信 2件・送信できなかった記録 1件');
    await dialog.locator('[data-action="confirm"]').click();
    await dialog.getByText('確認のチェックを入れてください。').waitFor();
    await dialog.locator('#confirm-ack').check();
    await dialog.locator('[data-action="confirm"]').click();
    await page.locator('table[data-ops-table] tbody tr[data-status="closed"]', { hasText: 'E2E 安否確認訓練' }).waitFor();
  });

  it('operations: the area can be drawn on the map instead of choosing districts', async () => {
    await page.goto('/staff/operations');
    const form = page.locator('form[data-form="operation"]');
    await form.waitFor();
    await form.locator('details.poly-picker summary').click();
    const mapBox = form.locator('details.poly-picker .staff-map');
    await form.locator('details.poly-picker .staff-map[data-ready]').waitFor();
    await mapBox.scrollIntoViewIfNeeded();
    const box = (await mapBox.boundingBox())!;
    const cx = box.x + box.width / 2;
    const cy = box.y + box.height / 2;
    // A triangle around the city centre (zoom 10.5): wide enough to hold demo households.
    for (const [dx, dy] of [[-150, -120], [150, -120], [0, 150]] as const) await page.mouse.click(cx + dx, cy + dy);
    await form.getByText('3点の範囲を描きました。').waitFor();
    await expectAxeClean(page);
    await form.getByLabel('活動名').fill('E2E 範囲指定の訓練');
    await form.getByLabel('作成と同時に開始する').check();
    await form.getByRole('button', { name: '作成する' }).click();
    await page.locator('[data-notice]', { hasText: 'E2E 範囲指定の訓練' }).waitFor();
    const op = (await staffApi.get<Array<{ name: string; district_ids: string[]; targets: number; mode: string }>>('/api/operations')).find((o) => o.name === 'E2E 範囲指定の訓練')!;
    expect(op.mode).toBe('drill');
    expect(op.district_ids).toEqual([]);
    expect(op.targets).toBeGreaterThan(0);
  });

  it('disaster mode: declared with an explicit confirmation, a safety check started from it, lifted with a reason', async () => {
    const districts = await staffApi.get<District[]>('/api/districts');
    const branch = districts.find((d) => d.level === 'branch')!;
    const form = page.locator('form[data-form="declaration"]');
    // Like the operation form, the declaration form starts on 訓練: 実災害 is a deliberate choice.
    expect(await form.locator('#decl-mode-drill').isChecked()).toBe(true);
    expect(await page.locator('#op-mode-drill').isChecked()).toBe(true);
    await form.locator('#decl-mode-real').check();
    await form.getByLabel('理由').fill('E2E 震度6弱の地震発生');
    await form.locator(`#decl-district-${branch.id}`).check();
    await form.getByRole('button', { name: '宣言する' }).click();
    await confirmDialog(true);
    const item = page.locator('[data-declarations] li', { hasText: 'E2E 震度6弱の地震発生' });
    await item.waitFor();
    await shot(page, 'staff-operations');
    const active = await staffApi.get<Array<{ id: string; reason: string; mode: string }>>('/api/disaster-declarations?active=true');
    const decl = active.find((d) => d.reason === 'E2E 震度6弱の地震発生')!;
    expect(decl.mode).toBe('real');

    type Op = { id: string; name: string; kind: string; status: string; mode: string };
    const before = new Set((await staffApi.get<Op[]>('/api/operations?status=active')).map((o) => o.id));
    await item.locator('[data-action="safety-check"]').click();
    await confirmDialog(false);
    await page.locator('[data-notice]', { hasText: '安否確認' }).waitFor();
    const started = (await staffApi.get<Op[]>('/api/operations?status=active')).filter((o) => !before.has(o.id));
    expect(started.map((o) => [o.kind, o.mode])).toEqual([['safety_check', 'real']]);
    // Its watchers read its name: it says when it was declared, not why (the reason is for staff).
    expect(started[0]!.name).toMatch(/^安否確認（.*宣言）$/);
    expect(started[0]!.name).not.toContain('E2E 震度6弱');
    // Each started operation's row links to its console.
    const link = page.locator(`[data-op="${started[0]!.id}"] a[data-console-link]`);
    expect(await link.getAttribute('href')).toBe(`/console/op/${started[0]!.id}`);

    await page.locator('[data-declarations] li', { hasText: 'E2E 震度6弱の地震発生' }).locator('[data-action="lift"]').click();
    const dialog = page.locator('dialog[data-dialog="confirm"]');
    await dialog.waitFor();
    await dialog.getByLabel('解除の理由').fill('E2E 余震が収まったため');
    await dialog.locator('[data-action="confirm"]').click();
    await page.locator('[data-notice]', { hasText: '災害モードを解除しました。' }).waitFor();
    const after = await staffApi.get<Array<{ id: string }>>('/api/disaster-declarations?active=true');
    expect(after.some((d) => d.id === decl.id)).toBe(false);
  });

  it('the audit log viewer filters by action and shows readable Japanese labels, with paging', async () => {
    await page.goto('/staff/audit');
    await page.getByRole('heading', { level: 1, name: '監査ログ' }).waitFor();
    await page.locator('table[data-audit-table]').waitFor();
    await expectAxeClean(page);
    await page.getByLabel('操作', { exact: true }).selectOption('disaster.declare');
    await auditSearch(() => page.getByRole('button', { name: '絞り込む' }).click());
    const actions = await page.locator('table[data-audit-table] tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action')));
    expect(actions.length).toBeGreaterThan(0);
    expect(new Set(actions)).toEqual(new Set(['disaster.declare']));
    const first = page.locator('table[data-audit-table] tbody tr').first();
    expect(await first.locator('th').textContent()).toBe('災害モードの宣言');
    expect(await first.textContent()).toContain('災害モード');
    expect(await first.textContent()).toContain('E2E 震度6弱の地震発生');

    // Who: choose the staff member from the list of actors; every row is theirs.
    const staffLogin = credentialFor(env, 'staff').login;
    await page.getByLabel('操作', { exact: true }).selectOption('');
    const actor = page.getByLabel('操作した人', { exact: true });
    const value = await actor.locator('option', { hasText: `（${staffLogin}）` }).getAttribute('value');
    await actor.selectOption(value!);
    await auditSearch(() => page.getByRole('button', { name: '絞り込む' }).click());
    const who = await page.locator('table[data-audit-table] tbody tr td:nth-child(2)').allTextContents();
    expect(who.length).toBeGreaterThan(0);
    expect(new Set(who)).toEqual(new Set([staffLogin]));
    await actor.selectOption('');
    // Paging: "older" follows the server's cursor (50 a page), "newer" comes back. Make sure
    // there are more than 50 entries: each actor-list read is itself audited.
    for (let i = 0; i < 55; i++) await staffApi.get('/api/staff/audit/actors');
    await auditSearch(() => page.getByRole('button', { name: '絞り込む' }).click());
    const older = page.locator('[data-page="older"]');
    expect(await older.isEnabled()).toBe(true);
    const firstPage = await page.locator('table[data-audit-table] tbody tr').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-id'))));
    await auditSearch(() => older.click());
    await page.getByText('2ページ目').waitFor();
    const secondPage = await page.locator('table[data-audit-table] tbody tr').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-id'))));
    expect(Math.max(...secondPage)).toBeLessThan(Math.min(...firstPage));
    await auditSearch(() => page.locator('[data-page="newer"]').click());
    await page.getByText('1ページ目').waitFor();
    expect(await page.locator('table[data-audit-table] tbody tr').first().getAttribute('data-id')).toBe(String(firstPage[0]));
    await shot(page, 'staff-audit');
  });

  it('the printable district list shows households, 取扱注意 and the outcome columns, and the read is audited', async () => {
    const districts = await staffApi.get<District[]>('/api/districts');
    const unitOrBranch = districts.find((d) => d.level === 'branch')!;
    const before = await staffApi.get<{ items: Array<{ id: number }> }>('/api/audit?action=household.read&limit=1');
    await page.goto(`/staff/print/district/${unitOrBranch.id}`);
    await page.locator('[data-print-sheet]').waitFor();
    expect(await page.locator('[data-notice]').textContent()).toBe('取扱注意');
    const heads = await page.locator('table[data-print-table] thead th').allTextContents();
    expect(heads).toEqual(expect.arrayContaining(['無事', '負傷', '要救助', '避難済', '不明', 'メモ']));
    const rows = await page.locator('table[data-print-table] tbody tr').count();
    expect(rows).toBeGreaterThan(0);
    expect(await page.locator('svg.print-map circle').count()).toBe(rows);
    await expectAxeClean(page);
    await page.emulateMedia({ media: 'print' });
    // A4's printable width (190 mm at 96 dpi): the sheet laid out as it prints.
    const viewport = page.viewportSize();
    await page.setViewportSize({ width: 718, height: 1032 });
    expect(await page.locator('.staff-nav').isVisible()).toBe(false);
    const layout = await page.evaluate(async () => {
      const px = (el: Element) => parseFloat(getComputedStyle(el).fontSize);
      const cells = [...document.querySelectorAll('table[data-print-table] td, table[data-print-table] th')];
      const labels = [...document.querySelectorAll('svg.print-map text[data-label]')].map((t) => t.getBoundingClientRect());
      let overlaps = 0;
      for (let i = 0; i < labels.length; i++) {
        for (let j = i + 1; j < labels.length; j++) {
          const a = labels[i]!;
          const b = labels[j]!;
          if (a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5) overlaps++;
        }
      }
      const phones = [...document.querySelectorAll('table[data-print-table] [data-phone]')];
      // The page-number margin box as the browser was given it (the built stylesheets' text).
      const css = await Promise.all([...document.querySelectorAll<HTMLLinkElement>('link[rel="stylesheet"]')].map(async (l) => (await fetch(l.href)).text()));
      const inline = [...document.querySelectorAll('style')].map((s) => s.textContent ?? '');
      return {
        smallestText: Math.min(...cells.map(px)),
        labels: labels.length,
        overlaps,
        phonesNowrap: phones.length > 0 && phones.every((p) => getComputedStyle(p).whiteSpace === 'nowrap'),
        phoneLines: Math.max(...phones.map((p) => Math.round(p.getBoundingClientRect().height / parseFloat(getComputedStyle(p).lineHeight || '20')))),
        tableTop: document.querySelector('table[data-print-table]')!.getBoundingClientRect().top + window.scrollY,
        pageNumbers: [...css, ...inline].filter((t) => t.includes('@bottom-center')).join(' '),
      };
    });
    expect(layout.smallestText).toBeGreaterThanOrEqual(14); // 10.5 pt = 14 px
    expect(layout.labels).toBe(rows);
    expect(layout.overlaps).toBe(0);
    expect(layout.phonesNowrap).toBe(true);
    expect(layout.phoneLines).toBe(1);
    expect(layout.tableTop).toBeLessThan(1032 * 0.9); // the list starts on the first page, under the map
    expect(layout.pageNumbers).toContain('counter(pages)');
    expect(layout.pageNumbers).toContain('ページ');
    // The first A4 page as it prints (the full list is hundreds of rows long).
    await page.screenshot({ path: fileURLToPath(new URL('./artifacts/staff-print-district.png', import.meta.url)), clip: { x: 0, y: 0, width: 718, height: 1032 } });
    if (viewport) await page.setViewportSize(viewport);
    await page.emulateMedia({ media: 'screen' });
    const after = await staffApi.get<{ items: Array<{ id: number; actor_login: string; details: Record<string, unknown> }> }>('/api/audit?action=household.read&limit=1');
    expect(after.items[0]!.id).toBeGreaterThan(before.items[0]?.id ?? 0);
    expect(after.items[0]!.actor_login).toBe(credentialFor(env, 'staff').login);
  });
});
