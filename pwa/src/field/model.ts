import type { MessageKey } from '../i18n';
import type { TonariDB } from '../outbox/db';

export type OperationKind = 'watch_round' | 'safety_check';

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
}

export interface MyHouseholds {
  operation: Operation;
  households: Household[];
}

export const OUTCOMES: Record<OperationKind, readonly string[]> = {
  watch_round: ['ok', 'away', 'contact', 'emergency'],
  safety_check: ['safe', 'injured', 'rescue', 'evacuated', 'unknown'],
};

/** Outcomes that must put the 110/119 buttons on screen at once. */
export const CALL_NOW = new Set(['emergency', 'rescue']);

export const OUTCOME_LABELS: Record<string, MessageKey> = {
  ok: 'outcome.ok',
  away: 'outcome.away',
  contact: 'outcome.contact',
  emergency: 'outcome.emergency',
  safe: 'outcome.safe',
  injured: 'outcome.injured',
  rescue: 'outcome.rescue',
  evacuated: 'outcome.evacuated',
  unknown: 'outcome.unknown',
};

export const KIND_LABELS: Record<OperationKind, MessageKey> = {
  watch_round: 'ops.kind.watch_round',
  safety_check: 'ops.kind.safety_check',
};

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

// --- offline cache (IndexedDB `cache` table) ----------------------------------------
// OPEN: these answers hold personal data (names, addresses) and are NOT yet encrypted at
// rest; the PIN-unlocked WebCrypto key (PRODUCT.md §3) and wipe-on-logout come next.

const opsKey = 'ops:active';
const hhKey = (opId: string) => `my-households:${opId}`;
const localKey = (opId: string) => `local-status:${opId}`;

export interface LocalStatus {
  outcome: string;
  at: number;
}

export async function saveActiveOps(db: TonariDB, ops: Operation[]): Promise<void> {
  await db.cache.put({ key: opsKey, value: ops, saved_at: Date.now() });
}

export async function loadActiveOps(db: TonariDB): Promise<Operation[] | null> {
  const row = await db.cache.get(opsKey);
  return Array.isArray(row?.value) ? (row.value as Operation[]) : null;
}

export async function saveMyHouseholds(db: TonariDB, opId: string, data: MyHouseholds): Promise<void> {
  await db.cache.put({ key: hhKey(opId), value: data, saved_at: Date.now() });
}

export async function loadMyHouseholds(db: TonariDB, opId: string): Promise<{ data: MyHouseholds; saved_at: number } | null> {
  const row = await db.cache.get(hhKey(opId));
  const v = row?.value as MyHouseholds | undefined;
  if (!row || !v || !v.operation || !Array.isArray(v.households)) return null;
  return { data: v, saved_at: row.saved_at };
}

/** What this device recorded last per household (shown until the server's status catches up). */
export async function loadLocalStatus(db: TonariDB, opId: string): Promise<Record<string, LocalStatus>> {
  const row = await db.cache.get(localKey(opId));
  return (row?.value as Record<string, LocalStatus> | undefined) ?? {};
}

export async function saveLocalStatus(db: TonariDB, opId: string, householdId: string, status: LocalStatus): Promise<void> {
  await db.transaction('rw', db.cache, async () => {
    const current = await loadLocalStatus(db, opId);
    current[householdId] = status;
    await db.cache.put({ key: localKey(opId), value: current, saved_at: Date.now() });
  });
}
