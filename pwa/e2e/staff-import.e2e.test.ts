// Import wizard round trip (issue #6): as staff, a good roster CSV is checked (dry run), then
// committed, and its people are in the database; a bad file shows its errors per row with the
// server's Japanese messages, the commit stays disabled, and nothing of it is stored. The real
// GSI shelter file (tests/data, credited in tests/data/README.md) goes through the same wizard.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { apiSession, axeViolations, credentialFor, type E2EEnv, shot, useSignedInDesktop } from './support';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SHELTERS = fileURLToPath(new URL('../../tests/data/gsi_designated_shelters_kasama_08216.csv', import.meta.url));

const HEADER = '氏名,フリガナ,生年月日,性別,住所,電話番号,避難支援等を必要とする事由,緯度,経度';
// Synthetic people (nobody real) at real Kasama places.
const GOOD = [
  HEADER,
  '北山 澄子,キタヤマ スミコ,昭和11年2月3日,女,茨城県笠間市旭町510-1,0296-77-4101,要介護3,36.3259,140.3305',
  '北山 清,キタヤマ キヨシ,S9.8.15,男,茨城県笠間市旭町510-1,0296-77-4101,高齢者のみ世帯,36.3259,140.3305',
  '南條 トメ,ナンジョウ トメ,1938/11/20,女,茨城県笠間市稲田2145-3,,独居高齢,36.3605,140.2040',
].join('\n') + '\n';
const BAD = [
  HEADER,
  '西浦 和代,ニシウラ カズヨ,昭和14年5月6日,女,茨城県笠間市旭町512-2,,要介護4,36.3262,140.3301',
  '東雲 正夫,シノノメ マサオ,昭和70年1月1日,男,茨城県笠間市稲田2150-1,,身体障害1級,36.3608,140.2044',
  '水戸 外子,ミト ソトコ,昭和20年1月1日,女,茨城県水戸市中央1-4-1,,要介護3,36.3659,140.4710',
].join('\n') + '\n';


/** Rows in the e2e database, as the superuser (row-level security does not hide them). */
function countPeople(names: string[]): number {
  const url = process.env.E2E_DATABASE_URL;
  if (!url) throw new Error('e2e: E2E_DATABASE_URL not set (run through /work/tools/e2e-dev.sh)');
  const db = url.split('/').pop()!.split('?')[0]!;
  const list = names.map((n) => `'${n.replace(/'/g, "''")}'`).join(',');
  // Names are stored with an ideographic space between family and given name.
  const sql = `SELECT count(*) FROM person WHERE replace(name, '\u3000', ' ') IN (${list})`;
  return Number(execFileSync('bash', ['scripts/pg.sh', 'psql', '-d', db, '-tAc', sql], {
    cwd: REPO,
    encoding: 'utf8',
    // e2e-dev.sh points TONARI_VAR_DIR at the test's own var dir; the cluster lives in the checkout's.
    env: { ...process.env, TONARI_VAR_DIR: '' },
  }).trim());
}

const desk = useSignedInDesktop('staff');
let env: E2EEnv;
let page: Page;
beforeAll(() => ({ env, page } = desk));

async function chooseKind(label: string): Promise<void> {
  await page.getByLabel(label).check();
}

async function upload(name: string, mimeType: string, content: Buffer): Promise<void> {
  await page.getByLabel('ファイル', { exact: true }).setInputFiles({ name, mimeType, buffer: content });
  await page.getByRole('button', { name: '検査する（保存しません）' }).click();
  await page.locator('[data-step="report"]').waitFor();
}

async function count(key: string): Promise<number> {
  return Number(await page.locator(`[data-report-summary] dd[data-count="${key}"]`).first().textContent());
}

describe('staff import wizard', () => {
  it('the staff home links to every staff screen, the console and the field app', async () => {
    await page.goto('/staff');
    await page.getByRole('heading', { level: 1, name: '職員メニュー' }).waitFor();
    await page.locator('.staff-menu a').first().waitFor(); // after the session check
    const hrefs = await page.locator('.staff-menu a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    expect(hrefs).toEqual(['/staff/imports', '/staff/operations', '/staff/registry', '/staff/watch', '/staff/drills', '/staff/audit', '/staff/users', '/console', '/']);
    expect(await axeViolations(page)).toEqual([]);
  });

  it('a good roster: dry run stores nothing, commit stores every row', async () => {
    const names = ['北山 澄子', '北山 清', '南條 トメ'];
    await page.goto('/staff/imports');
    await page.getByRole('heading', { level: 1, name: 'データ取り込み' }).waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await chooseKind('避難行動要支援者名簿（CSV）');
    await upload('meibo_good.csv', 'text/csv', Buffer.from(GOOD, 'utf8'));
    await page.locator('[data-outcome="clean"]').waitFor();
    expect(await count('totalRows')).toBe(3);
    expect(await count('wouldCreate')).toBe(3);
    expect(await count('errors')).toBe(0);
    expect(countPeople(names)).toBe(0); // the dry run wrote nothing
    expect(await axeViolations(page)).toEqual([]);
    const commit = page.locator('[data-action="commit"]');
    expect(await commit.isEnabled()).toBe(true);
    await commit.click();
    await page.locator('[data-step="done"]').waitFor();
    await page.locator('[data-outcome="committed"]').waitFor();
    expect(await count('created')).toBe(3);
    expect(await count('householdsCreated')).toBe(2);
    await shot(page, 'staff-import-done');
    expect(countPeople(names)).toBe(3);
    // And through the API, as staff: the people are there.
    const staff = await apiSession(env.baseUrl, credentialFor(env, 'staff'));
    const found = await staff.get<{ total: number; items: Array<{ name: string }> }>(`/api/persons?q=${encodeURIComponent('キタヤマ')}`);
    expect(found.items.map((p) => p.name.replace('\u3000', ' ')).sort()).toEqual(['北山 清', '北山 澄子']);
  });

  it('a bad roster shows its errors per row in Japanese, cannot be committed, and stores nothing', async () => {
    const names = ['西浦 和代', '東雲 正夫', '水戸 外子'];
    await page.goto('/staff/imports');
    await chooseKind('避難行動要支援者名簿（CSV）');
    await upload('meibo_bad.csv', 'text/csv', Buffer.from(BAD, 'utf8'));
    await page.locator('[data-outcome="errors"]').waitFor();
    expect(await count('errors')).toBeGreaterThanOrEqual(2);
    const rows = await page.locator('table[data-issues] tbody tr.issue-error').evaluateAll((trs) =>
      trs.map((tr) => ({ code: tr.getAttribute('data-code'), cells: [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '') })),
    );
    const codes = rows.map((r) => r.code);
    expect(codes).toContain('bad_date');
    expect(codes).toContain('outside_area');
    const badDate = rows.find((r) => r.code === 'bad_date')!;
    expect(badDate.cells[0]).toBe('生年月日');
    expect(badDate.cells[3]).toMatch(/[\u3040-\u30ff\u4e00-\u9fff]/); // the server's Japanese message
    // Row numbers as in the file (header = row 1).
    const rowHeads = await page.locator('table[data-issues] tbody th').allTextContents();
    expect(rowHeads).toEqual(expect.arrayContaining(['3', '4']));
    expect(await page.locator('[data-action="commit"]').isDisabled()).toBe(true);
    await page.getByText('エラーのあるファイルは取り込めません。').waitFor();
    await shot(page, 'staff-import-bad');
    expect(await axeViolations(page)).toEqual([]);
    // Nothing of the bad file is stored — not even its one good row.
    expect(countPeople(names)).toBe(0);
    const staff = await apiSession(env.baseUrl, credentialFor(env, 'staff'));
    const found = await staff.get<{ total: number }>(`/api/persons?q=${encodeURIComponent('西浦')}`);
    expect(found.total).toBe(0);
  });

  it("Kasama's real GSI shelter file checks clean and imports its 30 designated shelters", async () => {
    await page.goto('/staff/imports');
    await chooseKind('避難所・避難場所（国土地理院形式CSV）');
    await upload('gsi_designated_shelters_kasama_08216.csv', 'text/csv', readFileSync(SHELTERS));
    await page.locator('[data-outcome="clean"]').waitFor();
    expect(await count('totalRows')).toBe(30);
    await page.locator('[data-action="commit"]').click();
    await page.locator('[data-step="done"]').waitFor();
    expect((await count('created')) + (await count('updated'))).toBe(30);
  });
});
