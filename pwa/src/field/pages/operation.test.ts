import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ApiClient } from '../../api/client';
import { ApiError, NetworkError } from '../../api/errors';
import { loadMyHouseholds, saveMyHouseholds, type MyHouseholds } from '../model';
import { setLang } from '../../i18n';
import { TonariDB } from '../../device-db/db';
import { Outbox } from '../../outbox/outbox';
import type { AppContext, Page } from '../../router';
import { matchRoute } from '../../router';
import { installVault, Vault } from '../../vault/vault';
import { operationPage } from './operation';
import { outboxPage } from './outbox';

const OP_ID = '0190c6a4-0000-7000-8000-0000000000a1';
const DATA: MyHouseholds = {
  operation: { id: OP_ID, kind: 'safety_check', mode: 'drill', name: '安否確認訓練', status: 'active', label: '【訓練】' },
  households: [
    { id: 'h1', address: '笠間市笠間1', status: 'unreached', order: 1, people: [{ id: 'p1', name: '笠間 一郎' }] },
    { id: 'h2', address: '笠間市笠間2', status: 'safe', order: 2, people: [{ id: 'p2', name: '笠間 二郎' }, { id: 'p3', name: '笠間 三子' }] },
  ],
};

let root: HTMLElement;
let page: Page | undefined;
let db: TonariDB;
let outbox: Outbox;
let seq = 0;

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
};
const until = async (cond: () => boolean) => {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
};

function setOnline(value: boolean) {
  vi.spyOn(navigator, 'onLine', 'get').mockReturnValue(value);
}

function ctx(get: ReturnType<typeof vi.fn>) {
  return { api: { get } as unknown as ApiClient, navigate: vi.fn<AppContext['navigate']>(), outbox } satisfies AppContext;
}

let vault: Vault;

beforeEach(async () => {
  setLang('ja');
  root = document.createElement('main');
  document.body.replaceChildren(root);
  db = new TonariDB(`page-${++seq}`);
  // An unlocked vault, as after the PIN screen (the real PBKDF2 cost: these pages use the real key path).
  vault = installVault(new Vault(db));
  await vault.setup('2580');
  // Never actually sends: these tests are about the page; the queue has its own tests.
  outbox = new Outbox({ db, sealer: vault, push: () => Promise.reject(new NetworkError('offline', 'unreachable')), isOnline: () => false });
});

afterEach(async () => {
  page?.dispose?.();
  page = undefined;
  db.close();
  await TonariDB.delete(db.name);
});

describe('router patterns', () => {
  it('matches /op/:id and prefers exact routes', () => {
    const a = () => ({ render() {} });
    const b = () => ({ render() {} });
    expect(matchRoute({ '/op/:id': a, '/outbox': b }, '/op/abc')).toEqual({ factory: a, params: { id: 'abc' } });
    expect(matchRoute({ '/op/:id': a, '/outbox': b }, '/outbox')?.factory).toBe(b);
    expect(matchRoute({ '/op/:id': a }, '/op/')).toBeNull();
    expect(matchRoute({ '/op/:id': a }, '/op/a/b')).toBeNull();
  });
});

describe('my households page', () => {
  it('shows the drill banner and households in walking order, and caches them', async () => {
    setOnline(true);
    const get = vi.fn().mockResolvedValue(DATA);
    page = operationPage(root, ctx(get), { id: OP_ID });
    page.render();
    await until(() => !!root.querySelector('[data-household]'));
    expect(get).toHaveBeenCalledWith(`/api/operations/${OP_ID}/my-households`);
    expect(root.querySelector('[data-drill]')?.textContent).toContain('【訓練】');
    expect(root.querySelector('h1')?.textContent).toBe('【訓練】安否確認訓練');
    const items = [...root.querySelectorAll('[data-household]')];
    expect(items.map((b) => b.getAttribute('data-household'))).toEqual(['h1', 'h2']);
    expect(items[0]!.textContent).toContain('笠間 一郎');
    expect(items[0]!.textContent).toContain('笠間市笠間1');
    expect(items[0]!.querySelector('[data-status]')?.textContent).toBe('未確認');
    expect(items[1]!.textContent).toContain('笠間 二郎・笠間 三子');
    expect(items[1]!.querySelector('[data-status]')?.textContent).toBe('無事');
    expect(root.querySelector('[data-offline]')).toBeNull();
    expect((await loadMyHouseholds(db, OP_ID))?.data).toEqual(DATA);
    // At rest it is ciphertext: no name or address in the stored row.
    const raw = await db.cache.get(`my-households:${OP_ID}`);
    expect(JSON.stringify(raw)).not.toContain('笠間');
    expect(new TextDecoder().decode((raw!.value as { ct: ArrayBuffer }).ct)).not.toContain('笠間');
  });

  it('records an outcome in two taps, offline, into the outbox', async () => {
    setOnline(false);
    await saveMyHouseholds(db, OP_ID, DATA, 1);
    const get = vi.fn();
    page = operationPage(root, ctx(get), { id: OP_ID });
    page.render();
    await until(() => !!root.querySelector('[data-household="h1"]'));
    expect(get).not.toHaveBeenCalled();
    expect(root.querySelector('[data-offline]')).not.toBeNull();

    root.querySelector<HTMLButtonElement>('[data-household="h1"]')!.click();
    const panel = root.querySelector('[data-household-panel="h1"]')!;
    expect([...panel.querySelectorAll('[data-outcome]')].map((b) => b.textContent)).toEqual(['無事', '負傷', '要救助', '避難済', '不明']);
    const note = panel.querySelector('textarea')!;
    note.value = '2階にいる';
    note.dispatchEvent(new Event('input'));
    panel.querySelector<HTMLButtonElement>('[data-outcome="injured"]')!.click();
    await until(() => root.querySelector('[data-household="h1"] [data-status]')?.textContent === '負傷');

    const rows = await db.outbox.toArray();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.state).toBe('pending');
    expect(rows[0]!.payload).toMatchObject({ type: 'visit', operation_id: OP_ID, household_id: 'h1', outcome: 'injured' });
    // The note is sealed: not in the stored payload, opened again only with the key.
    expect(rows[0]!.payload).not.toHaveProperty('note');
    expect(JSON.stringify(rows[0])).not.toContain('2階');
    expect(await outbox.openPayload(rows[0]!)).toMatchObject({ outcome: 'injured', note: '2階にいる' });
    expect(root.querySelector('[role=status].recorded')?.textContent).toContain('負傷 を記録しました');
    expect(root.querySelector('[data-call-now]')).toBeNull(); // 負傷 is not 要救助
  });

  it('要救助 shows the 110 and 119 call buttons at once', async () => {
    setOnline(false);
    await saveMyHouseholds(db, OP_ID, DATA, 1);
    page = operationPage(root, ctx(vi.fn()), { id: OP_ID });
    page.render();
    await until(() => !!root.querySelector('[data-household="h2"]'));
    root.querySelector<HTMLButtonElement>('[data-household="h2"]')!.click();
    root.querySelector<HTMLButtonElement>('[data-household-panel="h2"] [data-outcome="rescue"]')!.click();
    await until(() => !!root.querySelector('[data-call-now]'));
    const call = root.querySelector('[data-call-now]')!;
    expect(call.getAttribute('role')).toBe('alert');
    expect([...call.querySelectorAll('a')].map((a) => a.getAttribute('href'))).toEqual(['tel:110', 'tel:119']);
  });

  it('watch rounds offer 異常なし / 不在 / 要連絡 / 緊急, and 緊急 shows the call buttons', async () => {
    setOnline(false);
    const watch: MyHouseholds = { ...DATA, operation: { ...DATA.operation, kind: 'watch_round', mode: 'real', label: '', name: '見守り' } };
    await saveMyHouseholds(db, OP_ID, watch, 1);
    page = operationPage(root, ctx(vi.fn()), { id: OP_ID });
    page.render();
    await until(() => !!root.querySelector('[data-household="h1"]'));
    expect(root.querySelector('[data-drill]')).toBeNull();
    expect(root.querySelector('h1')?.textContent).toBe('見守り');
    root.querySelector<HTMLButtonElement>('[data-household="h1"]')!.click();
    const labels = [...root.querySelectorAll('[data-household-panel="h1"] [data-outcome]')].map((b) => b.textContent);
    expect(labels).toEqual(['異常なし', '不在', '要連絡', '緊急']);
    root.querySelector<HTMLButtonElement>('[data-outcome="emergency"]')!.click();
    await until(() => !!root.querySelector('[data-call-now]'));
  });

  it('falls back to the cache on a network error, and explains when nothing is cached', async () => {
    setOnline(true);
    page = operationPage(root, ctx(vi.fn().mockRejectedValue(new NetworkError('x', 'unreachable'))), { id: OP_ID });
    page.render();
    await until(() => !!root.querySelector('[data-offline]'));
    expect(root.textContent).toContain('まだ端末に保存されていません');

    page.dispose?.();
    await saveMyHouseholds(db, OP_ID, DATA, 1);
    page = operationPage(root, ctx(vi.fn().mockRejectedValue(new ApiError({ status: 503 }))), { id: OP_ID });
    page.render();
    await until(() => !!root.querySelector('[data-household]'));
    expect(root.querySelector('[data-offline]')?.textContent).toContain('前回取得した担当世帯');
  });

  it('goes to login on 401', async () => {
    setOnline(true);
    const c = ctx(vi.fn().mockRejectedValue(new ApiError({ status: 401, code: 'not_authenticated' })));
    page = operationPage(root, c, { id: OP_ID });
    page.render();
    await until(() => c.navigate.mock.calls.length > 0);
    expect(c.navigate).toHaveBeenCalledWith('/login', { replace: true });
  });
});

describe('outbox page', () => {
  it('shows the waiting count and lists conflicts', async () => {
    await outbox.enqueueVisit({ operation_id: OP_ID, household_id: 'h1', outcome: 'safe' });
    const row = await outbox.enqueueVisit({ operation_id: OP_ID, household_id: 'h2', outcome: 'rescue' });
    await db.outbox.update(row.client_id, { state: 'conflict', last_error: 'conflict visit_conflict' });
    page = outboxPage(root, ctx(vi.fn()));
    page.render();
    await until(() => root.querySelector('[data-outbox-summary]')?.textContent === '未送信 1件');
    await until(() => !!root.querySelector('[data-conflicts]'));
    expect(root.querySelector('[data-conflicts]')?.textContent).toContain('要救助');
    // In words, not the server's code (#17).
    expect(root.querySelector('[data-conflicts]')?.textContent).toContain('どちらが正しいか確認が必要です');
    expect(root.querySelector('[data-conflicts]')?.textContent).not.toContain('visit_conflict');
    const buttons = [...root.querySelectorAll('button')].map((b) => b.textContent);
    expect(buttons).toEqual(['今すぐ送信', '書き出し（JSON）', '書き出し（CSV）', 'この記録を削除する']);
    await flush();
  });
});

describe('app bar counter', () => {
  it('shows 未送信 N件, 要確認 for conflicts/dead, and a sign-in link after a 401', async () => {
    const { mountOutboxStatus } = await import('../../ui/outbox-status');
    const { ApiError: E } = await import('../../api/errors');
    const bar = document.createElement('header');
    document.body.append(bar);
    const online = { value: true };
    const box = new Outbox({ db, push: () => Promise.reject(new E({ status: 401 })), isOnline: () => online.value });
    const navigate = vi.fn();
    const off = mountOutboxStatus(bar, box, navigate);
    const count = () => bar.querySelector('[data-outbox-count]')!.textContent;
    await until(() => count() === '未送信 0件');
    await box.enqueueVisit({ operation_id: OP_ID, household_id: 'h1', outcome: 'safe' });
    const dead = await box.enqueueVisit({ operation_id: OP_ID, household_id: 'h2', outcome: 'safe' });
    await db.outbox.update(dead.client_id, { state: 'dead' });
    await box.enqueueVisit({ operation_id: OP_ID, household_id: 'h2', outcome: 'unknown' });
    await until(() => count() === '未送信 2件');
    expect(bar.querySelector<HTMLElement>('[data-outbox-check]')!.hidden).toBe(false);
    expect(bar.querySelector('[data-outbox-check]')!.textContent).toBe('要確認 1件');
    expect(bar.querySelector<HTMLElement>('[data-outbox-signin]')!.hidden).toBe(true);
    await box.flush(); // 401
    await until(() => !bar.querySelector<HTMLElement>('[data-outbox-signin]')!.hidden);
    bar.querySelector<HTMLElement>('[data-outbox-signin]')!.click();
    expect(navigate).toHaveBeenCalledWith('/login');
    expect(count()).toBe('未送信 2件'); // nothing lost
    setLang('en');
    expect(count()).toBe('2 unsent');
    off();
  });
});

describe('sign-out', () => {
  it('warns about unsent records, then wipes cached households (personal data) and the key, but keeps the unsent outbox', async () => {
    const { homePage } = await import('./home');
    setOnline(true);
    await saveMyHouseholds(db, OP_ID, DATA, 1);
    await outbox.enqueueVisit({ operation_id: OP_ID, household_id: 'h1', outcome: 'safe' });
    const user = { id: 'u', login: 'w', display_name: '笠間 花子', role: 'watcher', district_ids: [], tenant: { id: 't', name: '社協', municipality_code: '08216', time_zone: 'Asia/Tokyo' } };
    const api = {
      me: vi.fn().mockResolvedValue(user),
      get: vi.fn().mockResolvedValue([DATA.operation]),
      logout: vi.fn().mockResolvedValue(undefined),
    } as unknown as ApiClient;
    const navigate = vi.fn<AppContext['navigate']>();
    page = homePage(root, { api, navigate, outbox });
    page.render();
    await until(() => !!root.querySelector(`[data-op="${OP_ID}"]`));
    expect(root.querySelector(`[data-op="${OP_ID}"]`)?.textContent).toContain('【訓練】安否確認訓練');
    // The work comes first: the operations above who is signed in.
    const facts = root.querySelector('dl.facts')!;
    expect(root.querySelector('[data-ops]')!.compareDocumentPosition(facts) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    [...root.querySelectorAll('button')].find((b) => b.textContent === 'ログアウト')!.click();
    // One record is still unsent (the push fails): a warning with the count, nothing wiped yet.
    await until(() => !!root.querySelector('[data-signout-warning]'));
    expect(root.querySelector('[data-signout-warning]')?.textContent).toContain('1件');
    expect(navigate).not.toHaveBeenCalled();
    expect(await db.cache.count()).toBeGreaterThan(0);
    // The safe choice is the primary button; signing out anyway is not.
    const warning = root.querySelector('[data-signout-warning]')!;
    expect(warning.querySelector('button.primary')?.hasAttribute('data-signout-send')).toBe(true);
    expect(warning.querySelectorAll('button.primary')).toHaveLength(1);
    expect(root.querySelector('[data-signout-confirm]')?.classList.contains('primary')).toBe(false);
    root.querySelector<HTMLButtonElement>('[data-signout-confirm]')!.click();
    await until(() => navigate.mock.calls.length > 0);
    expect(navigate).toHaveBeenCalledWith('/login', { replace: true });
    expect(await db.cache.count()).toBe(0);
    expect(await db.outbox.count()).toBe(1);
    // The key is gone from memory; the wrapped key stays so the same PIN can send the record later.
    expect(vault.unlocked).toBe(false);
    expect(await vault.state()).toBe('locked');
  });
});
