// Sealed key/value storage on top of the `cache` table: every value is AES-GCM ciphertext
// bound to its key. Locked (or no vault) means: nothing is written, nothing can be read.
import type { Sealed, TonariDB } from '../device-db/db';
import { vaultFor } from './vault';

function isSealed(v: unknown): v is Sealed {
  return !!v && typeof v === 'object' && (v as Sealed).v === 1 && typeof (v as Sealed).ct === "object";
}

/** Stores `value` sealed; returns false (and stores nothing) while the vault is locked. */
export async function putSealed(db: TonariDB, key: string, value: unknown, savedAt: number = Date.now()): Promise<boolean> {
  const vault = vaultFor(db);
  if (!vault.unlocked) return false;
  const sealed = await vault.seal(value, `cache:${key}`);
  await db.cache.put({ key, value: sealed, saved_at: savedAt });
  return true;
}

/** The opened value and when it was saved; null when absent, locked, or not readable with this key. */
export async function getSealed<T>(db: TonariDB, key: string): Promise<{ value: T; saved_at: number } | null> {
  const vault = vaultFor(db);
  if (!vault.unlocked) return null;
  const row = await db.cache.get(key);
  if (!row || !isSealed(row.value)) return null;
  try {
    return { value: await vault.open<T>(row.value, `cache:${key}`), saved_at: row.saved_at };
  } catch {
    return null;
  }
}
