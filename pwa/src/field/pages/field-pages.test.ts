// The PIN screen, household history, my escalations, pull refresh and stale-age, 避難済 with a shelter.
import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ApiClient } from '../../api/client';
import { NetworkError } from '../../api/errors';
import { loadMyHouseholds, saveActiveOps, saveMyHouseholds, type MyHouseholds } from '../model';
import { LAST_USER_KEY } from '../../auth/last-known';
import { homePage } from './home';
import { sortShelters, type Shelter } from '../shelters';
import { ageText, pullChanges } from '../sync';
import { setLang } from '../../i18n';
import { TonariDB } from '../../device-db/db';
import { Outbox } from '../../outbox/outbox';
import type { AppContext, Page } from '../../router';
import { putSealed } from '../../vault/store';
import { installVault, passwordSignInRequired, rememberAfterUnlock, takePinReset, Vault } from '../../vault/vault';
import { escalationsPage, type DistrictEscalation, type MyEscalation } from './escalations';
import { saveLastKnownUser } from '../../auth/last-known';
import { historyPage, type MyVisit } from './history';
import { operationPage } from './operation';
import { outboxPage } from './outbox';
import { pinPage } from './pin';

const OP = '0190c6a4-0000-7000-8000-0000000000a1';
const PIN = '2580';
const DATA: MyHouseholds = {
  operation: { id: OP, kind: 'safety_check', mode: 'real', name: '地震後の安否確認', status: 'active', label: '' },
  households: [
    { id: 'h1', address: '笠間市笠間1', status: 'unreached', order: 1, people: [{ id: 'p1', name: '笠間 一郎' }], lon: 140.25, lat: 36.38 },
    { id: 'h2', address: '笠間市笠間2', status: 'unreached', order: 2, people: [{ id: 'p2', name: '笠間 二郎' }] },
  ],
};
const SHELTERS: Shelter[] = [
  { id: 'far', name: '遠い公民館', kind: 'designated', address: null, lon: 140.4, lat: 36.5, is_open: true },
  { id: 'closed', name: '近いが未開設の小学校', kind: 'designated', address: null, lon: 140.251, lat: 36.381, is_open: false },
  { id: 'near', name: '近い中学校', kind: 'designated', address: null, lon: 140.26, lat: 36.39, is_open: true },
];

let root: HTMLElement;
let page: Page | undefined;
let db: TonariDB;
let vault: Vault;
let outbox: Outbox;
let seq = 0;

const until = async (cond: () => boolean, what = 'condition') => {
  for (let i = 0; i < 600 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond(), what).toBe(true);
};
const text = () => root.textContent ?? '';

function setOnline(value: boolean) {
  vi.spyOn(navigator, 'onLine', 'get').mockReturnValue(value);
}

function ctx(api: Partial<ApiClient>) {
  return { api: api as ApiClient, navigate: vi.fn<AppContext['navigate']>(), outbox } satisfies AppContext;
}

function fill(name: string, value: string) {
  root.querySelector<HTMLInputElement>(`input[name="${name}"]`)!.value = value;
}
function submit() {
  root.querySelector('form')!.dispatchEvent(new Event('submit', { cancelable: true }));
}

beforeEach(() => {
  setLang('ja');
  sessionStorage.clear();
  localStorage.clear();
  root = document.createElement('main');
  document.body.replaceChildren(root);
  db = new TonariDB(`field-${++seq}`);
  vault = installVault(new Vault(db));
  outbox = new Outbox({ db, sealer: vault, push: () => Promise.reject(new NetworkError('offline', 'unreachable')), isOnline: () => false });
});

afterEach(async () => {
  page?.dispose?.();
  page = undefined;
  vi.useRealTimers();
  vi.restoreAllMocks();
  db.close();
  await TonariDB.delete(db.name);
});

describe('PIN screen', () => {
  it('sets a PIN entered twice (4–6 digits), then continues where the user was going', async () => {
    rememberAfterUnlock(`/op/${OP}`);
    const c = ctx({});
    page = pinPage(root, c);
    page.render();
    await until(() => root.querySelector('[data-pin-mode="setup"]') !== null, 'setup mode');
    expect(root.querySelector('h1')?.textContent).toBe('PINの設定');
    expect(root.querySelector('label[for="pin-new"]')?.textContent).toBe('PIN（4〜6桁の数字）');
    expect(root.querySelector('#pin-new')?.getAttribute('inputmode')).toBe('numeric');

    fill('pin', '123');
    fill('pin2', '123');
    submit();
    await until(() => text().includes('4〜6桁の数字で入力'));
    fill('pin', '2580');
    fill('pin2', '2581');
    submit();
    await until(() => text().includes('一致しません'));
    expect(await vault.state()).toBe('none');

    fill('pin', PIN);
    fill('pin2', PIN);
    submit();
    await until(() => c.navigate.mock.calls.length > 0, 'navigated');
    expect(c.navigate).toHaveBeenCalledWith(`/op/${OP}`, { replace: true });
    expect(await vault.state()).toBe('unlocked');
  });

  it('counts wrong PINs, says how many tries are left, warns about unsent records from the 3rd, and the 5th wipes', async () => {
    await vault.setup(PIN);
    await saveMyHouseholds(db, OP, DATA);
    await outbox.enqueueVisit({ operation_id: OP, household_id: 'h1', outcome: 'rescue', note: '倒れた家具' });
    await outbox.enqueueVisit({ operation_id: OP, household_id: 'h2', outcome: 'safe' });
    vault.lock();
    const logout = vi.fn().mockResolvedValue(undefined);
    const c = ctx({ logout });
    page = pinPage(root, c);
    page.render();
    await until(() => root.querySelector('[data-pin-mode="unlock"]') !== null, 'unlock mode');
    expect(root.querySelector('label[for="pin-unlock"]')?.textContent).toBe('PIN（暗証番号）');

    const wrong = async (n: number) => {
      fill('pin', '0000');
      submit();
      await until(() => (root.querySelector('[data-pin-error]')?.textContent ?? '').includes(`あと${5 - n}回`) || !!root.querySelector('[data-wiped]'), `try ${n}`);
    };
    await wrong(1);
    expect(root.querySelector('[data-pin-error]')?.textContent).toContain('あと4回間違えると');
    expect(root.querySelector('[data-pin-error]')?.textContent).not.toContain('未送信');
    await wrong(2);
    expect(root.querySelector('[data-pin-error]')?.textContent).not.toContain('記録2件');
    await wrong(3);
    expect(root.querySelector('[data-pin-error]')?.textContent).toContain('あと2回');
    expect(root.querySelector('[data-pin-error]')?.textContent).toContain('まだ送信していない記録2件も失われます');
    // The count survives a reload of the screen.
    page.dispose?.();
    page = pinPage(root, c);
    page.render();
    await until(() => (root.querySelector('[data-pin-error]')?.textContent ?? '').includes('あと2回'), 'after reload');
    setLang('en');
    page.render();
    expect(root.querySelector('[data-pin-error]')?.textContent).toContain('2 more wrong tries');
    setLang('ja');
    page.render();
    await wrong(4);
    expect(await db.outbox.count()).toBe(2);
    await wrong(5);
    expect(root.querySelector('[data-wiped]')?.textContent).toContain('5回間違えた');
    expect(await db.outbox.count()).toBe(0);
    expect(await db.cache.count()).toBe(0);
    expect(await vault.state()).toBe('none');
    expect(logout).toHaveBeenCalledOnce();

    // The session cookie may have survived (offline): no new PIN and no download without the password.
    expect(passwordSignInRequired()).toBe(true);
    page.dispose?.();
    const again = ctx({});
    page = pinPage(root, again);
    page.render();
    await until(() => again.navigate.mock.calls.length > 0, 'sent to login');
    expect(again.navigate).toHaveBeenCalledWith('/login', { replace: true });
    page.dispose?.();
    const { homePage } = await import('./home');
    const me = vi.fn().mockResolvedValue({ id: 'u', login: 'w', display_name: '笠間 花子', role: 'watcher', district_ids: [], tenant: { id: 't', name: '社協', municipality_code: '08216', time_zone: 'Asia/Tokyo' } });
    const homeLogout = vi.fn().mockResolvedValue(undefined);
    const home = ctx({ me, logout: homeLogout, get: vi.fn() });
    setOnline(true);
    page = homePage(root, home);
    page.render();
    await until(() => home.navigate.mock.calls.length > 0, 'home sends to login');
    expect(homeLogout).toHaveBeenCalledOnce();
    expect(home.navigate).toHaveBeenCalledWith('/login', { replace: true });
    expect(home.api.get).not.toHaveBeenCalled();
    // A password sign-in lifts it.
    const { signIn } = await import('../../auth/session');
    await signIn({ api: { login: me, me, logout: homeLogout } as never }, 'w', 'pw');
    expect(passwordSignInRequired()).toBe(false);
  });

  it('the right PIN unlocks; a non-number is refused without counting', async () => {
    await vault.setup(PIN);
    vault.lock();
    rememberAfterUnlock('/escalations');
    const c = ctx({});
    page = pinPage(root, c);
    page.render();
    await until(() => root.querySelector('[data-pin-mode="unlock"]') !== null);
    fill('pin', 'abcd');
    submit();
    await until(() => text().includes('4〜6桁の数字'));
    expect(await vault.failures()).toBe(0);
    fill('pin', PIN);
    submit();
    await until(() => c.navigate.mock.calls.length > 0);
    expect(c.navigate).toHaveBeenCalledWith('/escalations', { replace: true });
    expect(vault.unlocked).toBe(true);
  });

  it('"forgot PIN" warns with the unsent count and defers the wipe to a successful password sign-in', async () => {
    await vault.setup(PIN);
    await outbox.enqueueVisit({ operation_id: OP, household_id: 'h1', outcome: 'safe', note: 'メモ' });
    vault.lock();
    const c = ctx({});
    page = pinPage(root, c);
    page.render();
    await until(() => root.querySelector('[data-forgot]') !== null);
    root.querySelector<HTMLButtonElement>('[data-forgot]')!.click();
    await until(() => root.querySelector('[data-unsent-warning]') !== null);
    expect(root.querySelector('[data-unsent-warning]')?.textContent).toContain('記録1件は失われます');
    root.querySelector<HTMLButtonElement>('[data-forgot-confirm]')!.click();
    expect(c.navigate).toHaveBeenCalledWith('/login', { replace: true });
    // Nothing is wiped yet (cancelling the login must lose nothing)…
    expect(await db.outbox.count()).toBe(1);
    expect(await vault.state()).toBe('locked');
    // …the home page takes the flag after the sign-in succeeded.
    expect(takePinReset()).toBe(true);
    expect(takePinReset()).toBe(false);
  });
});

describe('stale data and pull refresh', () => {
  it('ageText says how old the data is', () => {
    const now = Date.parse('2026-11-27T12:00:00Z');
    expect(ageText(now - 20_000, now)).toEqual({ key: 'field.age.now', n: 0 });
    expect(ageText(now - 5 * 60_000, now)).toEqual({ key: 'field.age.minutes', n: 5 });
    expect(ageText(now - 3 * 3_600_000 - 59_000, now)).toEqual({ key: 'field.age.hours', n: 3 });
    expect(ageText(now - 50 * 3_600_000, now)).toEqual({ key: 'field.age.days', n: 2 });
  });

  it('the households page shows cached data with its age ("3時間前の情報")', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-27T12:00:00Z'));
    await vault.setup(PIN);
    await saveMyHouseholds(db, OP, DATA, Date.now() - 3 * 3_600_000);
    setOnline(false);
    page = operationPage(root, ctx({ get: vi.fn() }), { id: OP });
    page.render();
    await until(() => root.querySelector('[data-age]') !== null);
    expect(root.querySelector('[data-age]')?.textContent).toBe('3時間前の情報');
    expect(root.querySelector('[data-offline]')).not.toBeNull();
    // The refresh button offline explains instead of failing.
    root.querySelector<HTMLButtonElement>('[data-refresh]')!.click();
    await until(() => text().includes('オフラインのため更新できません'));
  });

  it('the home page shows the cached operations offline with their age', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-27T12:00:00Z'));
    await vault.setup(PIN);
    await saveActiveOps(db, [DATA.operation], Date.now() - 2 * 3_600_000);
    localStorage.setItem(LAST_USER_KEY, JSON.stringify({ display_name: '笠間 花子', role: 'watcher', tenant_name: '笠間市社会福祉協議会' }));
    setOnline(false);
    page = homePage(root, ctx({ me: vi.fn(), get: vi.fn() }));
    page.render();
    await until(() => root.querySelector('[data-ops-age]') !== null, 'the cached list');
    expect(root.querySelector('[data-ops-age]')?.textContent).toBe('前回取得した一覧を表示しています（2時間前の情報）。');
    expect(text()).toContain('地震後の安否確認');
  });

  it('a locked vault sends the households page to the PIN screen first', async () => {
    await vault.setup(PIN);
    vault.lock();
    const c = ctx({ get: vi.fn() });
    page = operationPage(root, c, { id: OP });
    page.render();
    await until(() => c.navigate.mock.calls.length > 0);
    expect(c.navigate).toHaveBeenCalledWith('/pin', { replace: true });
    expect(c.api.get).not.toHaveBeenCalled();
  });

  it('pullChanges merges statuses and household changes, keeps the cursor, and asks for a refetch on a new household', async () => {
    await vault.setup(PIN);
    await saveMyHouseholds(db, OP, DATA, 1);
    const get = vi.fn()
      .mockResolvedValueOnce({
        cursor: '2026-11-27T03:00:00+00:00',
        operations: [{ ...DATA.operation, name: '地震後の安否確認（第2報）' }],
        assignments: [{ operation_id: OP, household_id: 'h1', status: 'safe', updated_at: '2026-11-27T02:59:00+00:00' }],
        households: [{ id: 'h2', address: '笠間市笠間2-新', people: [{ id: 'p2', name: '笠間 二郎' }] }],
      })
      .mockResolvedValueOnce({
        cursor: '2026-11-27T04:00:00+00:00',
        operations: [],
        assignments: [{ operation_id: OP, household_id: 'h9', status: 'unreached', updated_at: '2026-11-27T03:30:00+00:00' }],
        households: [],
      });
    const first = await pullChanges({ get }, db, () => 1_000_000);
    expect(get).toHaveBeenLastCalledWith('/api/sync/pull');
    expect(first.changed.has(OP)).toBe(true);
    expect(first.refetch.size).toBe(0);
    const merged = (await loadMyHouseholds(db, OP))!;
    expect(merged.saved_at).toBe(1_000_000);
    expect(merged.data.operation.name).toBe('地震後の安否確認（第2報）');
    expect(merged.data.households.map((h) => [h.id, h.status, h.address])).toEqual([
      ['h1', 'safe', '笠間市笠間1'],
      ['h2', 'unreached', '笠間市笠間2-新'],
    ]);
    const second = await pullChanges({ get }, db);
    expect(get).toHaveBeenLastCalledWith(`/api/sync/pull?cursor=${encodeURIComponent('2026-11-27T03:00:00+00:00')}`);
    expect([...second.refetch]).toEqual([OP]);
  });

  it('pullChanges pulls page after page while the server says more, each with the cursor it was given', async () => {
    await vault.setup(PIN);
    await saveMyHouseholds(db, OP, DATA, 1);
    const page = (cursor: string, more: boolean, status: string) => ({
      cursor, more, operations: [], households: [],
      assignments: [{ operation_id: OP, household_id: 'h1', status, updated_at: '2026-11-27T03:00:00+00:00' }],
    });
    const get = vi.fn()
      .mockResolvedValueOnce(page('s10:a:b', true, 'injured'))
      .mockResolvedValueOnce(page('s10:c:d', true, 'rescue'))
      .mockResolvedValueOnce(page('e12', false, 'safe'));
    const result = await pullChanges({ get }, db);
    expect(get.mock.calls.map((c) => c[0])).toEqual([
      '/api/sync/pull', '/api/sync/pull?cursor=s10%3Aa%3Ab', '/api/sync/pull?cursor=s10%3Ac%3Ad']);
    expect(result.changed.has(OP)).toBe(true);
    expect((await loadMyHouseholds(db, OP))!.data.households.find((h) => h.id === 'h1')!.status).toBe('safe');
    get.mockResolvedValueOnce(page('e12', false, 'safe'));
    await pullChanges({ get }, db);
    expect(get).toHaveBeenLastCalledWith('/api/sync/pull?cursor=e12');
  });
});

describe('避難済 with a shelter', () => {
  it('sorts open shelters first, nearest first', () => {
    expect(sortShelters(SHELTERS, { lon: 140.25, lat: 36.38 }).map((s) => s.id)).toEqual(['near', 'far', 'closed']);
    // Without a household position: still open ones first (then by name), and no distance shown.
    const unplaced = sortShelters(SHELTERS, {});
    expect(unplaced.map((s) => s.is_open)).toEqual([true, true, false]);
    expect(unplaced.every((s) => s.km === null)).toBe(true);
  });

  it('asks for the shelter, records it, and attaches the position only when allowed', async () => {
    await vault.setup(PIN);
    await saveMyHouseholds(db, OP, DATA);
    await putSealed(db, 'shelters', SHELTERS);
    setOnline(false);
    const getCurrentPosition = vi.fn((ok: PositionCallback) =>
      ok({ coords: { longitude: 140.2512345, latitude: 36.3812345 } } as GeolocationPosition),
    );
    Object.defineProperty(navigator, 'geolocation', { value: { getCurrentPosition }, configurable: true });
    page = operationPage(root, ctx({ get: vi.fn() }), { id: OP });
    page.render();
    await until(() => root.querySelector('[data-household="h1"]') !== null);
    root.querySelector<HTMLButtonElement>('[data-household="h1"]')!.click();
    root.querySelector<HTMLButtonElement>('[data-household-panel="h1"] [data-outcome="evacuated"]')!.click();
    await until(() => root.querySelector('[data-shelter-picker]') !== null);
    expect(await db.outbox.count()).toBe(0); // not recorded before the shelter is chosen
    const choices = [...root.querySelectorAll('[data-shelter]')].map((b) => b.getAttribute('data-shelter'));
    expect(choices).toEqual(['near', 'far', 'closed', '']);
    expect(root.querySelector('[data-shelter="closed"]')?.textContent).toContain('未開設');

    // First without position: geolocation is never asked.
    root.querySelector<HTMLButtonElement>('[data-shelter="near"]')!.click();
    await until(() => root.querySelector('[data-household="h1"] [data-status]')?.textContent === '避難済');
    let rows = await db.outbox.toArray();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.payload).toMatchObject({ outcome: 'evacuated', shelter_id: 'near' });
    expect(await outbox.openPayload(rows[0]!)).not.toHaveProperty('lon');
    expect(getCurrentPosition).not.toHaveBeenCalled();

    // Then with the box ticked: the position is attached (sealed).
    root.querySelector<HTMLButtonElement>('[data-household-panel="h1"] [data-outcome="evacuated"]')!.click();
    await until(() => root.querySelector('[data-attach-position]') !== null);
    const box = root.querySelector<HTMLInputElement>('[data-attach-position]')!;
    box.checked = true;
    box.dispatchEvent(new Event('change'));
    root.querySelector<HTMLButtonElement>('[data-shelter=""]')!.click();
    await until(() => getCurrentPosition.mock.calls.length === 1);
    for (let i = 0; i < 100 && (await db.outbox.count()) < 2; i++) await new Promise((r) => setTimeout(r, 5));
    rows = await db.outbox.orderBy('created_at').toArray();
    expect(rows).toHaveLength(2);
    expect(rows[1]!.payload).not.toHaveProperty('shelter_id');
    expect(rows[1]!.payload).toMatchObject({ shelter_unknown: true }); // 不明な避難先, said explicitly
    expect(rows[0]!.payload).not.toHaveProperty('shelter_unknown');
    expect(rows[1]!.payload).not.toHaveProperty('lon'); // not in the clear
    expect(await outbox.openPayload(rows[1]!)).toMatchObject({ lon: 140.2512345, lat: 36.3812345 });
  });
});

describe('history and my escalations', () => {
  const VISITS: MyVisit[] = [
    { id: 'v2', client_id: 'c2', operation_id: OP, operation_name: '地震後の安否確認', mode: 'real', label: '', household_id: 'h1', outcome: 'injured', note: '足を痛めている', shelter_id: null, device_time: '2026-11-27T10:00:00+09:00', server_time: '2026-11-27T10:00:05+09:00' },
    { id: 'v1', client_id: 'c1', operation_id: OP, operation_name: '地震後の安否確認', mode: 'real', label: '', household_id: 'h1', outcome: 'unknown', note: null, shelter_id: null, device_time: '2026-11-27T08:00:00+09:00', server_time: '2026-11-27T08:00:05+09:00' },
  ];

  it('lists my visits newest first with outcome, note, time and sent / unsent, also offline', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-27T12:00:00+09:00'));
    await vault.setup(PIN);
    await saveMyHouseholds(db, OP, DATA);
    const unsent = await outbox.enqueueVisit({ operation_id: OP, household_id: 'h1', outcome: 'evacuated', note: '避難所へ向かった', shelter_unknown: true });
    await outbox.enqueueVisit({ operation_id: OP, household_id: 'h2', outcome: 'safe' }); // another household
    setOnline(true);
    const get = vi.fn().mockResolvedValue(VISITS);
    page = historyPage(root, ctx({ get }), { id: OP, hid: 'h1' });
    page.render();
    await until(() => root.querySelectorAll('[data-history-item]').length === 3, 'three items');
    expect(get).toHaveBeenCalledWith('/api/field/visits?household_id=h1');
    const items = [...root.querySelectorAll('[data-history-item]')];
    expect(items.map((i) => i.getAttribute('data-history-item'))).toEqual([unsent.client_id, 'c2', 'c1']);
    expect(items.map((i) => i.querySelector('[data-sent]')?.textContent)).toEqual(['未送信', '送信済み', '送信済み']);
    expect(items[0]!.querySelector('[data-outcome]')?.textContent).toBe('避難済');
    expect(items[0]!.querySelector('[data-note]')?.textContent).toBe('メモ：避難所へ向かった');
    expect(items[0]!.querySelector('[data-shelter-unknown]')?.textContent).toBe('避難先：不明');
    expect(items[1]!.textContent).toContain('足を痛めている');
    expect(items[1]!.textContent).toContain('記録した時刻');
    expect(text()).toContain('笠間 一郎');

    // Offline: the sealed copy of the server list, marked with its age.
    page.dispose?.();
    vi.setSystemTime(new Date('2026-11-27T14:00:00+09:00'));
    setOnline(false);
    const offlineGet = vi.fn();
    page = historyPage(root, ctx({ get: offlineGet }), { id: OP, hid: 'h1' });
    page.render();
    await until(() => root.querySelectorAll('[data-history-item]').length === 3, 'offline items');
    expect(offlineGet).not.toHaveBeenCalled();
    expect(root.querySelector('[data-offline]')).not.toBeNull();
    expect(root.querySelector('[data-age]')?.textContent).toBe('2時間前の情報');
    expect(JSON.stringify(await db.cache.get('history:h1'))).not.toContain('足を痛めている');
  });

  it('lists the escalations I raised with their state and the coordinator note', async () => {
    await vault.setup(PIN);
    const list: MyEscalation[] = [
      { id: 'e2', operation_id: OP, operation_name: '訓練', mode: 'drill', label: '【訓練】', household_id: 'h2', address: '笠間市笠間2', visit_id: 'v9', level: 'contact', outcome: 'injured', status: 'open', created_at: '2026-11-27T10:30:00+09:00', acknowledged_at: null, resolved_at: null, notes: null },
      { id: 'e1', operation_id: OP, operation_name: '地震後の安否確認', mode: 'real', label: '', household_id: 'h1', address: '笠間市笠間1', visit_id: 'v1', level: 'urgent', outcome: 'rescue', status: 'resolved', created_at: '2026-11-27T09:00:00+09:00', acknowledged_at: '2026-11-27T09:05:00+09:00', resolved_at: '2026-11-27T10:00:00+09:00', notes: '向かいます\n救助完了' },
    ];
    setOnline(true);
    const get = vi.fn().mockResolvedValue(list);
    page = escalationsPage(root, ctx({ get }));
    page.render();
    await until(() => root.querySelectorAll('[data-escalation]').length === 2);
    expect(get).toHaveBeenCalledWith('/api/field/escalations');
    const items = [...root.querySelectorAll('[data-escalation]')];
    expect(items.map((i) => i.querySelector('[data-state]')?.textContent)).toEqual(['未対応', '対応済み']);
    expect(items[0]!.textContent).toContain('【訓練】訓練');
    expect(items[1]!.textContent).toContain('要救助');
    expect(items[1]!.querySelector('[data-esc-notes]')?.textContent).toContain('救助完了');
    setLang('en');
    page.render();
    expect(root.querySelector('[data-escalation="e1"] [data-state]')?.textContent).toBe('Resolved');

    // Offline: the sealed copy.
    page.dispose?.();
    setOnline(false);
    page = escalationsPage(root, ctx({ get: vi.fn() }));
    page.render();
    await until(() => root.querySelectorAll('[data-escalation]').length === 2, 'offline list');
    expect(root.querySelector('[data-offline]')).not.toBeNull();
  });

  it("gives the district's 民生委員 the open escalations with name, address, a call button, acknowledge and resolve", async () => {
    await vault.setup(PIN);
    saveLastKnownUser({ id: 'c', login: 'minsei', display_name: '民生 委員', role: 'commissioner', district_ids: ['d1'], tenant: { id: 't', name: '社協', municipality_code: '08216', time_zone: 'Asia/Tokyo' } } as never);
    let district: DistrictEscalation[] = [
      { id: 'e5', operation_id: OP, household_id: 'h5', mode: 'real', level: 'urgent', outcome: 'rescue', status: 'open', created_at: '2026-11-27T10:30:00+09:00', notes: null,
        address: '笠間市笠間5-5', people: [{ name: '見本 五郎', phone: '0296-72-5555' }] },
      { id: 'e6', operation_id: OP, household_id: 'h6', mode: 'real', level: 'urgent', outcome: 'rescue', status: 'resolved', created_at: '2026-11-27T09:30:00+09:00', notes: 'done', address: '笠間市笠間6', people: [] },
    ];
    setOnline(true);
    const get = vi.fn(async (url: string) => (url === '/api/escalations' ? district : []));
    const post = vi.fn(async (url: string) => {
      district = district.map((e) => (url.includes(e.id) ? { ...e, status: url.endsWith('/resolve') ? 'resolved' : 'acknowledged' } as DistrictEscalation : e));
      return {};
    });
    page = escalationsPage(root, ctx({ get, post } as Partial<ApiClient>));
    page.render();
    await until(() => root.querySelectorAll('[data-district-escalation]').length === 1, 'district list');
    const card = root.querySelector('[data-district-escalation="e5"]')!;
    expect(card.querySelector('[data-esc-address]')?.textContent).toBe('笠間市笠間5-5');
    expect(card.textContent).toContain('見本 五郎');
    expect(card.textContent).toContain('要救助');
    expect(card.querySelector('a[data-call]')?.getAttribute('href')).toBe('tel:0296-72-5555');
    expect(root.querySelector('[data-district-escalation="e6"]')).toBeNull(); // resolved: nothing to do

    const note = card.querySelector<HTMLTextAreaElement>('textarea')!;
    note.value = '家族と連絡がとれた';
    note.dispatchEvent(new Event('input'));
    card.querySelector<HTMLButtonElement>('[data-ack="e5"]')!.click();
    await until(() => root.querySelector('[data-district-escalation="e5"]')?.getAttribute('data-esc-status') === 'acknowledged', 'acknowledged');
    expect(post).toHaveBeenCalledWith('/api/escalations/e5/acknowledge', { note: '家族と連絡がとれた' });
    root.querySelector<HTMLButtonElement>('[data-resolve="e5"]')!.click();
    await until(() => root.querySelectorAll('[data-district-escalation]').length === 0, 'resolved');
    expect(post).toHaveBeenLastCalledWith('/api/escalations/e5/resolve', { note: null }); // the memo went once
  });
});

describe('records the server refused', () => {
  async function queue() {
    await vault.setup(PIN);
    await saveMyHouseholds(db, OP, DATA);
    const refused = await outbox.enqueueVisit({ operation_id: OP, household_id: 'h1', outcome: 'rescue', note: '倒れた家具' }, new Date('2026-11-27T01:05:00Z'));
    await outbox.enqueueVisit({ operation_id: OP, household_id: 'h2', outcome: 'safe' });
    // As the outbox stores the server's answer for a visit sent after the operation closed.
    await db.outbox.update(refused.client_id, { state: 'dead', last_error: 'invalid operation_not_active: この活動は終了しています。' });
    return refused.client_id;
  }

  it('/outbox says which household, what and why, what to do, and discards only after confirmation', async () => {
    const id = await queue();
    page = outboxPage(root, ctx({}));
    page.render();
    await until(() => root.querySelector(`[data-dead] [data-record="${id}"]`) !== null, 'refused record');
    const item = root.querySelector(`[data-record="${id}"]`)!;
    expect(item.querySelector('[data-record-household]')?.textContent).toBe('笠間 一郎（笠間市笠間1）');
    expect(item.querySelector('[data-record-what]')?.textContent).toContain('要救助');
    expect(item.querySelector('[data-record-why]')?.textContent).toContain('活動が終了したため');
    expect(item.textContent).not.toContain('operation_not_active');
    expect(item.textContent).not.toMatch(/\d{4}-\d{2}-\d{2}T/); // no raw ISO time
    expect(item.textContent).toContain('コーディネーター');
    expect(item.querySelector('[role="alert"]')?.textContent).toContain('今すぐ'); // 要救助: phone now
    // The waiting record is listed too, in words.
    expect(root.querySelector('[data-waiting] [data-household-id="h2"] [data-record-household]')?.textContent).toBe('笠間 二郎（笠間市笠間2）');

    item.querySelector<HTMLButtonElement>(`[data-discard="${id}"]`)!.click();
    await until(() => root.querySelector(`[data-discard-confirm="${id}"]`) !== null, 'confirmation');
    expect(await db.outbox.get(id)).toBeDefined(); // nothing gone before the confirmation
    root.querySelector<HTMLButtonElement>(`[data-discard-yes="${id}"]`)!.click();
    await until(() => root.querySelector(`[data-record="${id}"]`) === null, 'discarded');
    expect(await db.outbox.get(id)).toBeUndefined();
    expect(await db.outbox.count()).toBe(1); // the waiting one stays
  });

  it('the households list marks each household with records still on the device (未送信 / refused)', async () => {
    await queue();
    setOnline(false);
    page = operationPage(root, ctx({ get: vi.fn() }), { id: OP });
    page.render();
    await until(() => root.querySelector('[data-household="h1"] [data-unsent]') !== null, 'marks');
    expect(root.querySelector('[data-household="h1"] [data-unsent]')?.getAttribute('data-unsent')).toBe('refused');
    expect(root.querySelector('[data-household="h2"] [data-unsent]')?.textContent).toBe('未送信');
  });
});
