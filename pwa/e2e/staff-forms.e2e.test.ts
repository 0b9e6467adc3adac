// Registry create/edit forms (issue #6), signed in as staff at 1280×800: a shelter, a district and a
// hazard zone are created by form; the server's own Japanese field messages show under the fields
// and nothing is stored until the input is right. A person's emergency contacts and the plan's
// supporters are edited; what the form does not show is kept, and a plan with a supporter whose
// details are withheld is no longer offered for editing. axe-core is clean on each form.
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ApiSession, expectAxeClean, shot, useSignedInDesktop } from './support';


const desk = useSignedInDesktop('staff');
let page: Page;
let api: ApiSession;
beforeAll(() => ({ page, api } = desk));

const JAPANESE = /[\u3040-\u30ff\u4e00-\u9fff]/;
// A bow tie: its edges cross, which the server refuses. Far from the demo homes (nothing re-assigned).
const BOWTIE = '140.2000,36.2000\n140.2010,36.2010\n140.2010,36.2000\n140.2000,36.2010';
const SQUARE = '140.2000,36.2000\n140.2010,36.2000\n140.2010,36.2010\n140.2000,36.2010';

interface Shelter { id: string; kind: string; name: string; lon: number; lat: number; capacity: number | null; hazards: string[] }
interface Person {
  id: string;
  name: string;
  emergency_contacts?: Record<string, unknown>[];
  plan?: { supporters: Record<string, unknown>[]; version: number } | null;
}
interface Hh { id: string; people: Person[] }

describe('create forms', () => {
  it('a shelter outside the city shows the server message and stores nothing; picked on the map it is stored', async () => {
    const name = 'E2E 旭町ふれあいセンター';
    await page.goto('/staff/registry/shelters');
    await page.locator('table[data-shelters] tbody tr').first().waitFor();
    const form = page.locator('form[data-form="shelter"]');
    await form.getByLabel('種類').selectOption('welfare');
    await form.getByLabel('避難所の名称').fill(name);
    await form.getByLabel('緯度').fill('36.3659');
    await form.getByLabel('経度').fill('140.4710'); // 水戸市
    await form.getByRole('button', { name: '登録する' }).click();
    const lonError = form.locator('[data-field="sh-lon"] .field-error');
    await lonError.waitFor();
    expect(await lonError.textContent()).toMatch(/市の区域外/);
    expect(await form.getByLabel('経度').getAttribute('aria-invalid')).toBe('true');
    await expectAxeClean(page);
    expect((await api.get<Shelter[]>('/api/shelters')).filter((s) => s.name === name)).toEqual([]);

    // Click the middle of the small map: the position fields fill in with a point in the city.
    await form.locator('details.point-picker summary').click();
    const mapBox = form.locator('details.point-picker .staff-map');
    await form.locator('details.point-picker .staff-map[data-ready]').waitFor();
    await mapBox.scrollIntoViewIfNeeded();
    const box = (await mapBox.boundingBox())!;
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await page.waitForFunction(() => (document.getElementById('sh-lon') as HTMLInputElement | null)?.value.startsWith('140.'));
    const lon = Number(await form.getByLabel('経度').inputValue());
    const lat = Number(await form.getByLabel('緯度').inputValue());
    expect(Math.abs(lon - 140.304)).toBeLessThan(0.05);
    expect(Math.abs(lat - 36.345)).toBeLessThan(0.05);
    await form.getByLabel('収容人数').fill('80');
    await form.getByLabel('洪水', { exact: true }).check();
    await form.getByLabel('地震', { exact: true }).check();
    await expectAxeClean(page);
    await form.getByRole('button', { name: '登録する' }).click();
    await page.getByText(`避難所「${name}」を登録しました。`).waitFor();
    const stored = (await api.get<Shelter[]>('/api/shelters')).filter((s) => s.name === name);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ kind: 'welfare', capacity: 80, hazards: ['flood', 'earthquake'] });
    expect(stored[0]!.lon).toBeCloseTo(lon, 5);
    expect(stored[0]!.lat).toBeCloseTo(lat, 5);
    await page.locator(`table[data-shelters] tr[data-shelter="${stored[0]!.id}"]`).waitFor();
    await shot(page, 'staff-shelter-form');
  });

  it('a self-intersecting district shows the server message and stores nothing; corrected it is stored', async () => {
    await page.goto('/staff/registry');
    await page.locator('table[data-districts] tbody tr').first().waitFor();
    const form = page.locator('form[data-form="new-district"]');
    await form.getByLabel('地区コード').fill('E2E-901');
    await form.getByLabel('地区の名称').fill('E2E 試験区');
    await form.getByLabel('フリガナ').fill('シケンク');
    await form.getByLabel('階層').selectOption('area');
    await form.getByLabel(/^範囲の角の座標/).fill(BOWTIE);
    await form.getByRole('button', { name: '登録する' }).click();
    const geomError = form.locator('[data-field="nd-points"] .field-error');
    await geomError.waitFor();
    expect(await geomError.textContent()).toMatch(/自己交差/);
    await expectAxeClean(page);
    const codes = async () => (await api.get<Array<{ code: string; level: string; walking_radius_m: number }>>('/api/districts')).filter((d) => d.code === 'E2E-901');
    expect(await codes()).toEqual([]);

    // Unreadable lines are caught before sending, with their own message.
    await form.getByLabel(/^範囲の角の座標/).fill('140.2000,36.2000\n北の角');
    await form.getByRole('button', { name: '登録する' }).click();
    await form.getByText('座標を読み取れない行があります。', { exact: false }).waitFor();

    await form.getByLabel(/^範囲の角の座標/).fill(SQUARE);
    await form.getByRole('button', { name: '登録する' }).click();
    await page.getByText('地区「E2E 試験区」を登録しました。').waitFor();
    expect(await codes()).toEqual([expect.objectContaining({ code: 'E2E-901', level: 'area', walking_radius_m: 300 })]);
    await page.locator('table[data-districts] tbody tr', { hasText: 'E2E 試験区' }).waitFor();
  });

  it('a hazard zone: the server message for a crossed outline, then stored and listed', async () => {
    await page.goto('/staff/registry/hazard-zones');
    const form = page.locator('form[data-form="hazard-zone"]');
    await form.waitFor();
    await form.getByLabel('種類').selectOption('flood');
    await form.getByLabel('区分・深さ').fill('0.5m未満');
    await form.getByLabel('区域の名称').fill('E2E 涸沼川沿い');
    await form.getByLabel(/^範囲の角の座標/).fill(BOWTIE);
    await form.getByRole('button', { name: '登録する' }).click();
    await form.locator('[data-field="hz-points"] .field-error', { hasText: '自己交差' }).waitFor();
    await expectAxeClean(page);
    const named = async () => (await api.get<{ features: Array<{ properties: { name: string | null; kind: string; level: string | null } }> }>('/api/hazard-zones/geojson')).features.filter((f) => f.properties.name === 'E2E 涸沼川沿い');
    expect(await named()).toEqual([]);
    await form.getByLabel(/^範囲の角の座標/).fill(SQUARE);
    await form.getByRole('button', { name: '登録する' }).click();
    await page.getByText('危険区域を登録しました。').waitFor();
    expect((await named()).map((f) => f.properties)).toEqual([expect.objectContaining({ kind: 'flood', level: '0.5m未満' })]);
    await page.locator('tr[data-zone]', { hasText: 'E2E 涸沼川沿い' }).waitFor();
  });
});

describe('emergency contacts and plan supporters', () => {
  it('edits both, keeps what the form does not show, and locks the plan once a supporter is withheld', async () => {
    // A person whose plan names supporters, all of them disclosed.
    let found: { hh: Hh; person: Person } | null = null;
    for (let offset = 0; offset < 3000 && !found; offset += 200) {
      const pageOf = await api.get<{ items: Hh[]; total: number }>(`/api/households?offset=${offset}&limit=200`);
      for (const hh of pageOf.items) {
        const person = hh.people.find((p) => (p.plan?.supporters.length ?? 0) > 0 && p.plan!.supporters.every((s) => s['consent'] !== 'not_given' && typeof s['name'] === 'string'));
        if (person) {
          found = { hh, person };
          break;
        }
      }
      if (offset + 200 >= pageOf.total) break;
    }
    expect(found, 'the demo seed has a plan with consenting supporters').not.toBeNull();
    const { hh, person } = found!;
    const before = person.emergency_contacts ?? [];
    const supportersBefore = person.plan!.supporters;
    const personNow = async () => (await api.get<Hh>(`/api/households/${hh.id}`)).people.find((p) => p.id === person.id)!;

    await page.goto(`/staff/registry/households/${hh.id}`);
    const card = page.locator(`[data-person="${person.id}"]`);
    await card.waitFor();

    // Emergency contacts: a phone too long gets the server's message in that row; nothing stored.
    await card.locator('[data-action="edit-person"]').click();
    const edit = page.locator('form[data-form="edit-person"]');
    await edit.locator('[data-action="add-contact"]').click();
    const row = edit.locator(`[data-contact="${before.length}"]`);
    await row.getByLabel('氏名').fill('E2E 長男 一郎');
    await row.getByLabel('続柄・関係').fill('長男');
    await row.getByLabel('電話番号').fill('0'.repeat(40));
    await edit.getByRole('button', { name: '保存する' }).click();
    await row.locator('.field-error').waitFor();
    expect(await row.locator('.field-error').textContent()).toMatch(JAPANESE);
    await expectAxeClean(page);
    expect((await personNow()).emergency_contacts ?? []).toEqual(before); // absent when empty, as `before`
    await row.getByLabel('電話番号').fill('090-1111-2222');
    await edit.getByRole('button', { name: '保存する' }).click();
    await page.getByText('の情報を保存しました。', { exact: false }).waitFor();
    expect((await personNow()).emergency_contacts).toEqual([...before, { name: 'E2E 長男 一郎', phone: '090-1111-2222', relationship: '長男' }]);

    // Supporters: change the first one's phone and add one with consent; stored keys not shown are kept.
    const plan = card.locator('form[data-form="plan"]');
    const first = plan.locator('[data-supporter="0"]');
    await first.getByLabel('電話番号').fill('0296-00-1234');
    await plan.locator('[data-action="add-supporter"]').click();
    const added = plan.locator(`[data-supporter="${supportersBefore.length}"]`);
    await added.getByLabel('氏名').fill('E2E 近所 次郎');
    await added.getByLabel('続柄・関係').fill('隣人');
    await added.getByLabel('支援者本人の同意日').fill('2026-11-20');
    await expectAxeClean(page);
    await plan.getByRole('button', { name: '計画を保存する' }).click();
    await page.getByText('の個別避難計画を保存しました。', { exact: false }).waitFor();
    const saved = (await personNow()).plan!.supporters;
    expect(saved).toEqual([
      { ...supportersBefore[0], phone: '0296-00-1234' },
      ...supportersBefore.slice(1),
      // Stored in the server's canonical shape (server/registry/api_households.py SupporterIn).
      { name: 'E2E 近所 次郎', phone: null, relationship: '隣人', role: null, watcher_id: null, consented_on: '2026-11-20', withdrawn_on: null },
    ]);

    // A supporter without consent: saved, then withheld from view, and the editor is no longer offered.
    await plan.locator('[data-action="add-supporter"]').click();
    await plan.locator(`[data-supporter="${saved.length}"]`).getByLabel('氏名').fill('E2E 未同意 三郎');
    await plan.getByRole('button', { name: '計画を保存する' }).click();
    await card.getByText('同意のない支援者が含まれるため', { exact: false }).waitFor();
    expect(await card.locator('form[data-form="plan"]').count()).toBe(0);
    const locked = (await personNow()).plan!.supporters;
    expect(locked.slice(0, saved.length)).toEqual(saved);
    expect(locked[saved.length]).toEqual({ name: null, consent: 'not_given' });
    await expectAxeClean(page);
    await shot(page, 'staff-plan-supporters');
  });
});
