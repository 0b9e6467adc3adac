import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { NetworkError } from '../api/errors';
import { loadMyHouseholds, saveMyHouseholds, type MyHouseholds } from '../field/model';
import { TonariDB } from '../device-db/db';
import { Outbox, type PushFn } from '../outbox/outbox';
import { createOutbox } from '../outbox/runtime';
import { getSealed, putSealed } from './store';
import {
  installVault,
  MAX_PIN_FAILURES,
  NO_CONTACT_WIPE_DAYS,
  PBKDF2_ITERATIONS,
  rememberAfterUnlock,
  takeAfterUnlock,
  Vault,
  VaultLockedError,
  vaultFor,
} from './vault';

const OP = '0190c6a4-0000-7000-8000-0000000000a1';
const NAME = '笠間 一郎';
const ADDRESS = '笠間市笠間1234';
const NOTE = '2階の寝室で動けない';
const DATA: MyHouseholds = {
  operation: { id: OP, kind: 'safety_check', mode: 'real', name: '地震後の安否確認', status: 'active' },
  households: [{ id: 'h1', address: ADDRESS, status: 'unreached', order: 1, people: [{ id: 'p1', name: NAME }] }],
};
const PIN = '2580';
const DAY = 86_400_000;

let db: TonariDB;
let seq = 0;

beforeEach(() => {
  db = new TonariDB(`vault-${++seq}`);
});

afterEach(async () => {
  vi.useRealTimers();
  db.close();
  await TonariDB.delete(db.name);
});

/** Every byte IndexedDB holds for this database, as text: what someone with the phone could read. */
async function everythingStored(): Promise<string> {
  const parts: string[] = [];
  const dec = new TextDecoder();
  const walk = (v: unknown): void => {
    if (v instanceof ArrayBuffer) parts.push(dec.decode(v));
    else if (ArrayBuffer.isView(v)) parts.push(dec.decode(v as Uint8Array));
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    else parts.push(String(v));
  };
  for (const table of [db.cache, db.outbox, db.vault] as const) walk(await (table as { toArray(): Promise<unknown[]> }).toArray());
  return parts.join('\n');
}

function sealedOutbox(vault: Vault, push: PushFn): Outbox {
  return new Outbox({ db, sealer: vault, push, isOnline: () => true, random: () => 0 });
}

describe('encryption at rest', () => {
  it('round trip: what is sealed opens only with the key, and only under its own name', async () => {
    const vault = new Vault(db);
    await vault.setup(PIN);
    const sealed = await vault.seal(DATA, 'cache:x');
    expect(await vault.open(sealed, 'cache:x')).toEqual(DATA);
    // The same ciphertext moved to another key does not open (AAD binds it to its row).
    await expect(vault.open(sealed, 'cache:y')).rejects.toThrow();
    // Fresh IV each time: equal plaintexts give different ciphertexts.
    const again = await vault.seal(DATA, 'cache:x');
    expect(again.iv).not.toEqual(sealed.iv);

    vault.lock();
    await expect(vault.seal(DATA, 'cache:x')).rejects.toBeInstanceOf(VaultLockedError);
    await expect(vault.open(sealed, 'cache:x')).rejects.toBeInstanceOf(VaultLockedError);
    expect((await vault.unlock(PIN)).ok).toBe(true);
    expect(await vault.open(sealed, 'cache:x')).toEqual(DATA);
  });

  it('stores the data key only wrapped, under a PBKDF2-SHA-256 key with >= 310,000 iterations and a per-device salt', async () => {
    const a = new Vault(db);
    await a.setup(PIN);
    const meta = (await db.vault.get('meta'))!;
    expect(meta.iterations).toBeGreaterThanOrEqual(310_000);
    expect(PBKDF2_ITERATIONS).toBeGreaterThanOrEqual(310_000);
    expect(meta.salt).toHaveLength(16);
    expect(meta.wrapped.byteLength).toBe(40); // AES-KW of a 256-bit key
    // Another device (database) with the same PIN gets another salt and another key.
    const other = new TonariDB(`vault-other-${seq}`);
    try {
      const b = new Vault(other);
      await b.setup(PIN);
      expect((await other.vault.get('meta'))!.salt).not.toEqual(meta.salt);
      const sealed = await a.seal('x', 'k');
      await expect(b.open(sealed, 'k')).rejects.toThrow();
    } finally {
      other.close();
      await TonariDB.delete(other.name);
    }
  });

  it('accepts only 4 to 6 digit PINs', async () => {
    const vault = new Vault(db);
    for (const bad of ['123', '1234567', '12a4', '']) await expect(vault.setup(bad)).rejects.toThrow(RangeError);
    await vault.setup('123456');
    expect(await vault.state()).toBe('unlocked');
    // A second set-up over an existing vault is refused (its sealed rows would become unreadable).
    await expect(vault.setup('654321')).rejects.toThrow();
    expect((await vault.unlock('123456')).ok).toBe(true);
  });

  it('IndexedDB never holds the plaintext name, address, note or position', async () => {
    const vault = installVault(new Vault(db));
    await vault.setup(PIN);
    await saveMyHouseholds(db, OP, DATA);
    await putSealed(db, 'history:h1', [{ note: NOTE }]);
    const outbox = sealedOutbox(vault, vi.fn());
    await outbox.enqueueVisit({ operation_id: OP, household_id: 'h1', outcome: 'evacuated', note: NOTE, shelter_id: 's1', lon: 140.2345678, lat: 36.3456789 });

    // Control: the scan does see inside binary values (a plaintext buffer would be found).
    await db.cache.put({ key: 'control', value: { ct: new TextEncoder().encode(NAME).buffer }, saved_at: 0 });
    expect(await everythingStored()).toContain(NAME);
    await db.cache.delete('control');

    const stored = await everythingStored();
    expect(stored).toContain('evacuated'); // the non-personal part is readable, as designed
    for (const secret of [NAME, ADDRESS, NOTE, '140.2345678', '36.3456789', PIN]) expect(stored).not.toContain(secret);
    // …and yet it all comes back with the key.
    expect((await loadMyHouseholds(db, OP))!.data.households[0]!.people[0]!.name).toBe(NAME);
    const [row] = await db.outbox.toArray();
    expect(await outbox.openPayload(row!)).toMatchObject({ note: NOTE, lon: 140.2345678, lat: 36.3456789, shelter_id: 's1' });
  });

  it("a VC leader's report keeps its free text sealed too (#18)", async () => {
    const vault = installVault(new Vault(db));
    await vault.setup(PIN);
    const outbox = sealedOutbox(vault, vi.fn());
    const row = await outbox.enqueueReport({
      operation_id: OP, dispatch_id: 'd1', label: '', outcome: 'continued', people: 4, hours: 3, injuries: 1, returns: [],
      work_done: NOTE, remaining: `${ADDRESS}の裏庭`, near_misses: `${NAME}さんが転びかけた`,
    });
    const stored = await everythingStored();
    expect(stored).toContain('continued');
    for (const secret of [NAME, ADDRESS, NOTE]) expect(stored).not.toContain(secret);
    expect(await outbox.openPayload(row)).toMatchObject({ type: 'vc_report', work_done: NOTE, remaining: `${ADDRESS}の裏庭` });
    vault.lock();
    await expect(outbox.enqueueReport({ operation_id: OP, dispatch_id: 'd1', label: '', outcome: 'done', people: 1, hours: 1, injuries: 0, returns: [], work_done: 'x' }))
      .rejects.toThrow();
  });

  it('reads nothing and writes nothing while locked', async () => {
    const vault = installVault(new Vault(db));
    await vault.setup(PIN);
    await saveMyHouseholds(db, OP, DATA);
    vault.lock();
    expect(await loadMyHouseholds(db, OP)).toBeNull();
    expect(await putSealed(db, 'x', 1)).toBe(false);
    expect(await db.cache.get('x')).toBeUndefined();
    expect(await vault.unlock(PIN)).toEqual({ ok: true });
    expect((await getSealed(db, `my-households:${OP}`))?.value).toEqual(DATA);
  });
});

describe('wrong PINs', () => {
  it('are counted (also across a reload), say how many tries are left, and a right PIN resets the count', async () => {
    await new Vault(db).setup(PIN);
    const vault = new Vault(db); // a reload: nothing in memory
    expect(await vault.state()).toBe('locked');
    expect(await vault.unlock('0000')).toEqual({ ok: false, failures: 1, triesLeft: 4, wiped: false });
    expect(await vault.unlock('1111')).toEqual({ ok: false, failures: 2, triesLeft: 3, wiped: false });
    const reloaded = new Vault(db);
    expect(await reloaded.failures()).toBe(2);
    expect(await reloaded.unlock('2222')).toEqual({ ok: false, failures: 3, triesLeft: 2, wiped: false });
    expect(await reloaded.unlock(PIN)).toEqual({ ok: true });
    expect(await reloaded.failures()).toBe(0);
  });

  it('the fifth wrong PIN wipes everything: cache, key and unsent records', async () => {
    const setup = installVault(new Vault(db));
    await setup.setup(PIN);
    await saveMyHouseholds(db, OP, DATA);
    await sealedOutbox(setup, vi.fn()).enqueueVisit({ operation_id: OP, household_id: 'h1', outcome: 'rescue', note: NOTE });
    const vault = new Vault(db);
    for (let i = 1; i < MAX_PIN_FAILURES; i++) expect((await vault.unlock('9999')).ok).toBe(false);
    expect(await db.outbox.count()).toBe(1); // not yet
    expect(await vault.unlock('9999')).toEqual({ ok: false, failures: 5, triesLeft: 0, wiped: true });
    expect(await db.cache.count()).toBe(0);
    expect(await db.outbox.count()).toBe(0);
    expect(await db.vault.count()).toBe(0);
    expect(await vault.state()).toBe('none');
    // Even the right PIN opens nothing now.
    expect((await vault.unlock(PIN)).ok).toBe(false);
  });
});

describe('sign-out wipe', () => {
  it('with nothing unsent: cache, key and wrapped key go (the next sign-in sets a new PIN)', async () => {
    const vault = installVault(new Vault(db));
    await vault.setup(PIN);
    await saveMyHouseholds(db, OP, DATA);
    await vault.signOutWipe();
    expect(await db.cache.count()).toBe(0);
    expect(await db.vault.count()).toBe(0);
    expect(await vault.state()).toBe('none');
  });

  it('with unsent records: they stay sealed with the wrapped key, and are sent after unlocking with the same PIN', async () => {
    const vault = installVault(new Vault(db));
    await vault.setup(PIN);
    await saveMyHouseholds(db, OP, DATA);
    const push = vi.fn<PushFn>().mockRejectedValue(new NetworkError('offline', 'unreachable'));
    const outbox = sealedOutbox(vault, push);
    const row = await outbox.enqueueVisit({ operation_id: OP, household_id: 'h1', outcome: 'rescue', note: NOTE });
    await vault.signOutWipe();
    expect(await db.cache.count()).toBe(0);
    expect(await vault.state()).toBe('locked');
    expect(await everythingStored()).not.toContain(NOTE);

    // Locked: the row with a sealed note is not sent (it cannot be opened).
    push.mockReset().mockResolvedValue({ results: [{ client_id: row.client_id, status: 'accepted' }] });
    await db.outbox.update(row.client_id, { next_attempt_at: 0 });
    await outbox.flush();
    expect(push).not.toHaveBeenCalled();
    expect(await db.outbox.count()).toBe(1);

    // Next sign-in, same PIN: the note is opened and sent.
    expect((await vault.unlock(PIN)).ok).toBe(true);
    await outbox.flush();
    expect(push).toHaveBeenCalledOnce();
    expect(push.mock.calls[0]![0].mutations[0]).toMatchObject({ client_id: row.client_id, outcome: 'rescue', note: NOTE });
    expect(await db.outbox.count()).toBe(0);
  });
});

describe('no-contact wipe', () => {
  it(`after ${NO_CONTACT_WIPE_DAYS} days without our server the cache goes; the outbox and the PIN stay`, async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-01T09:00:00+09:00'));
    const vault = installVault(new Vault(db));
    await vault.setup(PIN);
    await saveMyHouseholds(db, OP, DATA);
    await sealedOutbox(vault, vi.fn()).enqueueVisit({ operation_id: OP, household_id: 'h1', outcome: 'safe', note: NOTE });

    vi.setSystemTime(Date.now() + (NO_CONTACT_WIPE_DAYS - 1) * DAY);
    expect(await vault.wipeIfNoContact()).toBe(false);
    await vault.touchContact(); // the server answered: the clock restarts
    vi.setSystemTime(Date.now() + (NO_CONTACT_WIPE_DAYS - 1) * DAY);
    expect(await vault.wipeIfNoContact()).toBe(false);
    expect(await loadMyHouseholds(db, OP)).not.toBeNull();

    vi.setSystemTime(Date.now() + 2 * DAY);
    expect(await vault.wipeIfNoContact()).toBe(true);
    expect(await db.cache.count()).toBe(0);
    expect(await db.outbox.count()).toBe(1);
    vault.lock();
    expect((await vault.unlock(PIN)).ok).toBe(true);
  });

  it('is checked when unlocking, and a successful push counts as contact', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-01T09:00:00+09:00'));
    const vault = vaultFor(db);
    await vault.setup(PIN);
    await saveMyHouseholds(db, OP, DATA);
    const post = vi.fn().mockImplementation(async (_path: string, body: { mutations: Array<{ client_id: string }> }) => ({
      results: body.mutations.map((m) => ({ client_id: m.client_id, status: 'accepted' })),
    }));
    const outbox = createOutbox({ post } as never, db);
    vi.setSystemTime(Date.now() + 10 * DAY);
    await outbox.enqueueVisit({ operation_id: OP, household_id: 'h1', outcome: 'safe' });
    await outbox.flush();
    expect(post).toHaveBeenCalledWith('/api/sync/push', expect.anything());
    expect((await db.vault.get('meta'))!.last_contact_at).toBe(Date.now());

    vi.setSystemTime(Date.now() + (NO_CONTACT_WIPE_DAYS + 1) * DAY);
    vault.lock();
    expect((await vault.unlock(PIN)).ok).toBe(true);
    expect(await db.cache.count()).toBe(0);
  });
});

describe('outbox with sealed notes', () => {
  it('sends rows without a sealed part even while locked; an unreadable note makes the row dead, not lost', async () => {
    const vault = installVault(new Vault(db));
    await vault.setup(PIN);
    const push = vi.fn<PushFn>().mockImplementation(async (body) => ({
      results: body.mutations.map((m) => ({ client_id: m.client_id, status: 'accepted' as const })),
    }));
    const outbox = sealedOutbox(vault, push);
    const plain = await outbox.enqueueVisit({ operation_id: OP, household_id: 'h1', outcome: 'safe' });
    const noted = await outbox.enqueueVisit({ operation_id: OP, household_id: 'h1', outcome: 'injured', note: NOTE });
    expect(noted.payload).not.toHaveProperty('note');
    vault.lock();
    await outbox.flush();
    expect(push).toHaveBeenCalledOnce();
    expect(push.mock.calls[0]![0].mutations.map((m) => m.client_id)).toEqual([plain.client_id]);
    expect((await db.outbox.get(noted.client_id))?.state).toBe('pending');

    // A row sealed under another key (e.g. restored from an old device) cannot be opened: kept as dead.
    const other = new Vault(new TonariDB(`vault-foreign-${seq}`));
    await other.setup('1357');
    const foreign = await other.sealRecordPart({ note: 'x' }, noted.client_id);
    other.db.close();
    await TonariDB.delete(other.db.name);
    await db.outbox.update(noted.client_id, { sealed: foreign });
    expect((await vault.unlock(PIN)).ok).toBe(true);
    await outbox.flush();
    const kept = await db.outbox.get(noted.client_id);
    expect(kept?.state).toBe('dead');
    expect(kept?.last_error).toContain('note_unreadable');
    expect((await outbox.status()).dead).toBe(1);
  });

  it('export opens notes while unlocked and never writes the ciphertext', async () => {
    const vault = installVault(new Vault(db));
    await vault.setup(PIN);
    const outbox = sealedOutbox(vault, vi.fn());
    await outbox.enqueueVisit({ operation_id: OP, household_id: 'h1', outcome: 'rescue', note: NOTE });
    const { rowsToCsv, rowsToJson } = await import('../outbox/outbox');
    const opened = await outbox.listOpened(['pending']);
    expect(rowsToCsv(opened)).toContain(NOTE);
    const json = JSON.parse(rowsToJson(opened)) as { items: Array<Record<string, unknown>> };
    expect(json.items[0]).not.toHaveProperty('sealed');
    vault.lock();
    const locked = await outbox.listOpened(['pending']);
    expect(locked[0]!.still_sealed).toBe(true);
    expect(rowsToCsv(locked)).not.toContain(NOTE);
  });
});

describe('other stores of personal data (the map tiles the service worker cached)', () => {
  it('are cleared by every wipe: sign-out, no contact, five wrong PINs', async () => {
    let now = Date.UTC(2026, 10, 1);
    const onWipe = vi.fn(async () => undefined);
    const vault = new Vault(db, { onWipe, now: () => now, iterations: 1000 });
    await vault.setup(PIN);
    await vault.signOutWipe();
    expect(onWipe).toHaveBeenCalledTimes(1);

    await vault.setup(PIN);
    expect(await vault.wipeIfNoContact()).toBe(false);
    expect(onWipe).toHaveBeenCalledTimes(1);
    now += (NO_CONTACT_WIPE_DAYS + 1) * DAY;
    expect(await vault.wipeIfNoContact()).toBe(true);
    expect(onWipe).toHaveBeenCalledTimes(2);

    vault.lock();
    for (let i = 0; i < MAX_PIN_FAILURES; i++) await vault.unlock('0000');
    expect(await vault.state()).toBe('none');
    expect(onWipe).toHaveBeenCalledTimes(3);
  });

  it('a failing cache clear does not stop the wipe', async () => {
    const vault = new Vault(db, { onWipe: () => Promise.reject(new Error('busy')), iterations: 1000 });
    await vault.setup(PIN);
    await saveMyHouseholds(db, OP, DATA);
    await vault.wipeAll();
    expect(await db.cache.count()).toBe(0);
    expect(await vault.state()).toBe('none');
  });
});

describe('where the PIN screen goes after unlocking', () => {
  it('keeps a deep link across a reload of the PIN screen, once, and never to the PIN or login screen', async () => {
    sessionStorage.clear();
    const first = await import('./vault');
    first.rememberAfterUnlock(`/op/${OP}`);
    // A reload (the service worker taking over, a restored tab): the module starts afresh.
    vi.resetModules();
    const reloaded = await import('./vault');
    expect(reloaded).not.toBe(first);
    expect(reloaded.takeAfterUnlock()).toBe(`/op/${OP}`);
    expect(reloaded.takeAfterUnlock()).toBe('/'); // taken once
    for (const bad of ['/pin', '/login?next=/op/1', '//evil.example/op', 'https://evil.example/', '']) {
      reloaded.rememberAfterUnlock(bad);
      expect(reloaded.takeAfterUnlock(), bad).toBe('/');
    }
  });

  it('is forgotten by a wipe (sign-out, no contact, five wrong PINs)', async () => {
    const vault = new Vault(db, { iterations: 1000 });
    await vault.setup(PIN);
    rememberAfterUnlock(`/op/${OP}`);
    await vault.wipeAll();
    expect(takeAfterUnlock()).toBe('/');
  });

  it('still works for the page’s life where sessionStorage is refused', async () => {
    const set = vi.spyOn(Storage.prototype, 'setItem').mockImplementation(() => {
      throw new DOMException('refused', 'SecurityError');
    });
    const get = vi.spyOn(Storage.prototype, 'getItem').mockImplementation(() => {
      throw new DOMException('refused', 'SecurityError');
    });
    rememberAfterUnlock('/escalations');
    expect(takeAfterUnlock()).toBe('/escalations');
    set.mockRestore();
    get.mockRestore();
  });
});
