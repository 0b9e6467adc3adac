import { t } from '../i18n';
import type { TonariDB } from '../device-db/db';
import { getSealed, putSealed } from '../vault/store';
import { inVocab, VOCAB, vocabLabel, type OperationKind } from '../vocab';

export type { OperationKind };

export interface Operation {
  id: string;
  kind: OperationKind;
  mode: 'real' | 'drill';
  name: string;
  status: string;
  label?: string;
  targets?: number;
}

export interface Person {
  id: string;
  name: string;
  kana?: string | null;
  phone?: string | null;
}

export interface Household {
  id: string;
  address: string;
  status: string;
  order: number;
  people: Person[];
  /** WGS84; the server sends them (used to put the nearest shelters first). */
  lon?: number;
  lat?: number;
  updated_at?: string;
}

export interface MyHouseholds {
  operation: Operation;
  households: Household[];
}

/** The outcomes of each kind of operation, in display order (from the shared vocabulary). */
export const OUTCOMES: Record<OperationKind, readonly string[]> = {
  watch_round: VOCAB.outcomes.watch_round.map((o) => o.code),
  safety_check: VOCAB.outcomes.safety_check.map((o) => o.code),
};

/** Outcomes that must put the 110/119 buttons on screen at once. */
export const CALL_NOW = new Set(['emergency', 'rescue']);

/** An outcome's label from the vocabulary (current language); no outcome yet (or an unknown code) is 未訪問. */
export function outcomeLabel(code: string | null | undefined): string {
  return code && inVocab('outcomes', code) ? vocabLabel('outcomes', code) : t('op.status.unreached');
}

/** An operation kind's label from the vocabulary (current language). */
export function kindLabel(kind: string): string {
  return vocabLabel('operation_kinds', kind);
}

/** Colour family per outcome (CSS class `outcome-<tone>`), always paired with text. */
export const OUTCOME_TONE: Record<string, 'good' | 'neutral' | 'warn' | 'danger'> = {
  ok: 'good',
  safe: 'good',
  evacuated: 'good',
  away: 'neutral',
  unknown: 'neutral',
  contact: 'warn',
  injured: 'warn',
  emergency: 'danger',
  rescue: 'danger',
};

export function isDrill(op: Pick<Operation, 'mode'>): boolean {
  return op.mode === 'drill';
}

// --- offline cache (IndexedDB `cache` table, every value sealed by src/vault/) ----------
// Nothing is written or read while the vault is locked: the pages ask for the PIN first.

const opsKey = 'ops:active';
const hhKey = (opId: string) => `my-households:${opId}`;
const localKey = (opId: string) => `local-status:${opId}`;

export interface LocalStatus {
  outcome: string;
  at: number;
}

export async function saveActiveOps(db: TonariDB, ops: Operation[], savedAt: number = Date.now()): Promise<void> {
  await putSealed(db, opsKey, ops, savedAt);
}

export async function loadActiveOps(db: TonariDB): Promise<Operation[] | null> {
  return (await loadActiveOpsWithAge(db))?.ops ?? null;
}

/** The cached list with when it was saved, so the screen can say how old it is. */
export async function loadActiveOpsWithAge(db: TonariDB): Promise<{ ops: Operation[]; savedAt: number } | null> {
  const row = await getSealed<unknown>(db, opsKey);
  return row && Array.isArray(row.value) ? { ops: row.value as Operation[], savedAt: row.saved_at } : null;
}

export async function saveMyHouseholds(db: TonariDB, opId: string, data: MyHouseholds, savedAt: number = Date.now()): Promise<void> {
  await putSealed(db, hhKey(opId), data, savedAt);
}

export async function loadMyHouseholds(db: TonariDB, opId: string): Promise<{ data: MyHouseholds; saved_at: number } | null> {
  const row = await getSealed<MyHouseholds>(db, hhKey(opId));
  const v = row?.value;
  if (!row || !v || !v.operation || !Array.isArray(v.households)) return null;
  return { data: v, saved_at: row.saved_at };
}

/** Operation ids with a cached my-households list (for the pull refresh). */
export async function cachedOperationIds(db: TonariDB): Promise<string[]> {
  const keys = (await db.cache.toCollection().primaryKeys()) as string[];
  return keys.filter((k) => k.startsWith('my-households:')).map((k) => k.slice('my-households:'.length));
}

/** What this device recorded last per household (shown until the server's status catches up). */
export async function loadLocalStatus(db: TonariDB, opId: string): Promise<Record<string, LocalStatus>> {
  return (await getSealed<Record<string, LocalStatus>>(db, localKey(opId)))?.value ?? {};
}

export async function saveLocalStatus(db: TonariDB, opId: string, householdId: string, status: LocalStatus): Promise<void> {
  // No Dexie transaction around it: WebCrypto calls would end it. One page writes at a time.
  const current = await loadLocalStatus(db, opId);
  current[householdId] = status;
  await putSealed(db, localKey(opId), current);
}
