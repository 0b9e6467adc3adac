// The one module that owns keys (docs/decisions/0008-field-encryption-at-rest.md).
//
// A random AES-GCM data key encrypts personal data at rest (the `cache` table, the sealed part
// of outbox rows). It is stored only wrapped (AES-KW) under a key derived from the user's PIN
// with PBKDF2-SHA-256 and a per-device salt; the unwrapped key lives only in this object's
// memory (non-extractable) and is gone on reload, lock, or wipe.
import { clearPrivateTileCaches } from '../map/offline';
import type { OutboxRow, Sealed, SealedPart, TonariDB, VaultRow } from '../device-db/db';

/** OWASP 2023 minimum for PBKDF2-HMAC-SHA-256. */
export const PBKDF2_ITERATIONS = 310_000;
/** Wrong PINs in a row that wipe everything on the device. */
export const MAX_PIN_FAILURES = 5;
/** From this many wrong PINs on, the PIN screen warns that unsent records will be lost too. */
export const WARN_UNSENT_FROM = 3;
/** Days without contact with our server after which cached personal data is wiped. */
export const NO_CONTACT_WIPE_DAYS = 14;
export const PIN_PATTERN = /^\d{4,6}$/;

const DAY_MS = 86_400_000;
const enc = new TextEncoder();
const dec = new TextDecoder();

export type VaultState = 'none' | 'locked' | 'unlocked';

export type UnlockResult =
  | { ok: true }
  /** `wiped`: that was the last try; everything on the device is gone. */
  | { ok: false; failures: number; triesLeft: number; wiped: boolean };

export class VaultLockedError extends Error {
  constructor() {
    super('The local data is locked: enter the PIN first');
    this.name = 'VaultLockedError';
  }
}

export interface VaultOptions {
  now?: () => number;
  iterations?: number;
  noContactDays?: number;
  /**
   * Other stores of personal data to clear on every wipe (the service worker's per-user map
   * tiles). Errors are swallowed: a wipe must not fail half-way because a cache was busy.
   */
  onWipe?: () => Promise<void>;
}

function toBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

export class Vault {
  readonly db: TonariDB;
  private key: CryptoKey | null = null;
  private readonly now: () => number;
  private readonly iterations: number;
  private readonly noContactMs: number;
  private readonly onWipe: () => Promise<void>;
  private listeners = new Set<() => void>();

  constructor(db: TonariDB, opts: VaultOptions = {}) {
    this.db = db;
    this.now = opts.now ?? Date.now;
    this.iterations = opts.iterations ?? PBKDF2_ITERATIONS;
    this.noContactMs = (opts.noContactDays ?? NO_CONTACT_WIPE_DAYS) * DAY_MS;
    this.onWipe = opts.onWipe ?? (async () => undefined);
  }

  private async wipeOthers(): Promise<void> {
    forgetAfterUnlock(); // the next user of this tab must not land on this one's deep link
    await this.onWipe().catch(() => undefined);
  }

  get unlocked(): boolean {
    return this.key !== null;
  }

  async state(): Promise<VaultState> {
    if (this.key) return 'unlocked';
    return (await this.db.vault.get('meta')) ? 'locked' : 'none';
  }

  /** Wrong PINs so far (persisted). */
  async failures(): Promise<number> {
    return (await this.db.vault.get('meta'))?.failures ?? 0;
  }

  /** Called when the lock state changes (the app bar, pages waiting for unlock). */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private changed(): void {
    for (const fn of this.listeners) fn();
  }

  private async pinKey(pin: string, salt: Uint8Array, iterations: number): Promise<CryptoKey> {
    const base = await crypto.subtle.importKey('raw', enc.encode(pin), 'PBKDF2', false, ['deriveKey']);
    return crypto.subtle.deriveKey(
      { name: 'PBKDF2', hash: 'SHA-256', salt: toBuffer(salt), iterations },
      base,
      { name: 'AES-KW', length: 256 },
      false,
      ['wrapKey', 'unwrapKey'],
    );
  }

  /** First use (after sign-in): a new random data key, wrapped under the PIN. */
  async setup(pin: string): Promise<void> {
    if (!PIN_PATTERN.test(pin)) throw new RangeError('PIN must be 4 to 6 digits');
    // Never over an existing vault: rows sealed under its key would become unreadable. A new PIN
    // comes only after wipeAll (forgot PIN, five wrong PINs) or a sign-out with nothing unsent.
    if (await this.db.vault.get('meta')) throw new Error('A PIN is already set on this device');
    const salt = crypto.getRandomValues(new Uint8Array(16));
    // Extractable only so it can be wrapped once; the copy kept in memory is re-imported non-extractable.
    const fresh = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, true, ['encrypt', 'decrypt']);
    const kek = await this.pinKey(pin, salt, this.iterations);
    const wrapped = await crypto.subtle.wrapKey('raw', fresh, kek, 'AES-KW');
    const t = this.now();
    const row: VaultRow = { key: 'meta', salt, iterations: this.iterations, wrapped, failures: 0, last_contact_at: t, created_at: t };
    // Data sealed under an earlier key would be unreadable: a new vault starts from an empty cache.
    await this.db.transaction('rw', this.db.vault, this.db.cache, async () => {
      await this.db.cache.clear();
      await this.db.vault.put(row);
    });
    this.key = await crypto.subtle.unwrapKey('raw', wrapped, kek, 'AES-KW', 'AES-GCM', false, ['encrypt', 'decrypt']);
    this.changed();
  }

  /**
   * Unwraps the data key with the PIN. A wrong PIN fails AES-KW's integrity check; the count is
   * persisted, and the MAX_PIN_FAILURES-th wrong PIN wipes everything (wipeAll).
   */
  async unlock(pin: string): Promise<UnlockResult> {
    const meta = await this.db.vault.get('meta');
    if (!meta) return { ok: false, failures: 0, triesLeft: 0, wiped: true };
    if (this.key) return { ok: true };
    try {
      const kek = await this.pinKey(pin, meta.salt, meta.iterations);
      this.key = await crypto.subtle.unwrapKey('raw', meta.wrapped, kek, 'AES-KW', 'AES-GCM', false, ['encrypt', 'decrypt']);
    } catch {
      const failures = meta.failures + 1;
      if (failures >= MAX_PIN_FAILURES) {
        requirePasswordSignIn();
        await this.wipeAll();
        return { ok: false, failures, triesLeft: 0, wiped: true };
      }
      await this.db.vault.update('meta', { failures });
      return { ok: false, failures, triesLeft: MAX_PIN_FAILURES - failures, wiped: false };
    }
    if (meta.failures) await this.db.vault.update('meta', { failures: 0 });
    this.changed();
    // The no-contact rule is checked on every unlock as well as at start.
    await this.wipeIfNoContact();
    return { ok: true };
  }

  /** Forgets the key (the data stays sealed on the device). */
  lock(): void {
    if (!this.key) return;
    this.key = null;
    this.changed();
  }

  async seal(value: unknown, aad: string): Promise<Sealed> {
    if (!this.key) throw new VaultLockedError();
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const ct = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv: toBuffer(iv), additionalData: enc.encode(aad) },
      this.key,
      enc.encode(JSON.stringify(value)),
    );
    return { v: 1, iv, ct };
  }

  /** `aad` must be what it was sealed with (the row's key): a ciphertext moved to another row does not open. */
  async open<T>(sealed: Sealed, aad: string): Promise<T> {
    if (!this.key) throw new VaultLockedError();
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: toBuffer(sealed.iv), additionalData: enc.encode(aad) },
      this.key,
      sealed.ct,
    );
    return JSON.parse(dec.decode(plain)) as T;
  }

  /** A successful answer from our server: restarts the no-contact clock. */
  async touchContact(): Promise<void> {
    await this.db.vault.update('meta', { last_contact_at: this.now() });
  }

  /**
   * N days without contact: cached personal data goes (the outbox and the key stay, so records
   * made on the device are still sent once the PIN is entered and the network is back).
   */
  async wipeIfNoContact(): Promise<boolean> {
    const meta = await this.db.vault.get('meta');
    if (!meta || this.now() - meta.last_contact_at < this.noContactMs) return false;
    await this.db.cache.clear();
    await this.wipeOthers();
    return true;
  }

  /**
   * Sign-out (after the app tried to send and warned about what is still unsent): cached
   * personal data and the in-memory key go. If records are still queued, the wrapped key
   * stays so they can be sent after the next sign-in with the same PIN; otherwise the
   * vault goes too and the next sign-in sets a new PIN.
   */
  async signOutWipe(): Promise<void> {
    await this.db.transaction('rw', this.db.cache, this.db.vault, this.db.outbox, async () => {
      await this.db.cache.clear();
      if ((await this.db.outbox.count()) === 0) await this.db.vault.clear();
    });
    await this.wipeOthers();
    this.lock();
  }

  /** Five wrong PINs / forgotten PIN: everything local goes, unsent records included (the user was warned). */
  async wipeAll(): Promise<void> {
    await this.db.transaction('rw', this.db.cache, this.db.vault, this.db.outbox, async () => {
      await this.db.cache.clear();
      await this.db.outbox.clear();
      await this.db.vault.clear();
    });
    await this.wipeOthers();
    this.key = null;
    this.changed();
  }

  // --- outbox rows ---------------------------------------------------------------------

  sealRecordPart(part: SealedPart, clientId: string): Promise<Sealed> {
    return this.seal(part, `outbox:${clientId}`);
  }

  openRecordPart(row: Pick<OutboxRow, 'client_id' | 'sealed'>): Promise<SealedPart> {
    return row.sealed ? this.open<SealedPart>(row.sealed, `outbox:${row.client_id}`) : Promise.resolve({});
  }
}

const vaults = new WeakMap<TonariDB, Vault>();

/** The vault of a device database (one per page load, so every page shares the unlocked key). */
export function vaultFor(db: TonariDB): Vault {
  let v = vaults.get(db);
  if (!v) {
    v = new Vault(db, { onWipe: clearPrivateTileCaches });
    vaults.set(db, v);
  }
  return v;
}

/** Tests and special set-ups: use this vault for `db`. */
export function installVault(vault: Vault): Vault {
  vaults.set(vault.db, vault);
  return vault;
}

// "Forgot PIN": the wipe happens only after the password sign-in succeeded (the home page
// checks this flag once the session is confirmed), so cancelling the login loses nothing.
const RESET_KEY = 'tonari.pinReset';

export function requestPinReset(): void {
  try {
    sessionStorage.setItem(RESET_KEY, '1');
  } catch {
    // Private mode: the user can still use "forgot PIN" again after sign-in.
  }
}

export function takePinReset(): boolean {
  try {
    const v = sessionStorage.getItem(RESET_KEY) === '1';
    sessionStorage.removeItem(RESET_KEY);
    return v;
  } catch {
    return false;
  }
}

// After a wipe for wrong PINs the server session may still be valid (offline: the sign-out could
// not reach the server). This flag makes the app demand the password before it sets a new PIN and
// downloads anything again; a successful password sign-in clears it (auth/session.ts).
const MUST_SIGN_IN_KEY = 'tonari.mustSignIn';

export function requirePasswordSignIn(): void {
  try {
    localStorage.setItem(MUST_SIGN_IN_KEY, '1');
  } catch {
    // Storage unavailable: the logout request made with the wipe is the remaining guard.
  }
}

export function passwordSignInRequired(): boolean {
  try {
    return localStorage.getItem(MUST_SIGN_IN_KEY) === '1';
  } catch {
    return false;
  }
}

export function clearPasswordSignInRequired(): void {
  try {
    localStorage.removeItem(MUST_SIGN_IN_KEY);
  } catch {
    // Nothing to do.
  }
}

// Where to go after the PIN screen: a deep link such as /op/123 survives the unlock, and a reload
// of the PIN screen too (the service worker taking over, the phone restoring a killed tab). Kept
// in sessionStorage (this tab only; a path, no personal data), in memory where that is refused.
const AFTER_UNLOCK_KEY = 'tonari.afterUnlock';
let afterUnlock = '/';

function deepLink(path: string | null): string {
  return path && path.startsWith('/') && !path.startsWith('//') && !path.startsWith('/pin') && !path.startsWith('/login') ? path : '/';
}

export function rememberAfterUnlock(path: string): void {
  afterUnlock = deepLink(path);
  try {
    sessionStorage.setItem(AFTER_UNLOCK_KEY, afterUnlock);
  } catch {
    // Storage refused (private mode): the in-memory one still serves this page's life.
  }
}

function forgetAfterUnlock(): void {
  afterUnlock = '/';
  try {
    sessionStorage.removeItem(AFTER_UNLOCK_KEY);
  } catch {
    // Storage refused: nothing was kept there.
  }
}

export function takeAfterUnlock(): string {
  let p = afterUnlock;
  try {
    p = deepLink(sessionStorage.getItem(AFTER_UNLOCK_KEY) ?? p);
  } catch {
    // As above.
  }
  forgetAfterUnlock();
  return p;
}
