/**
 * Records on this device, said in words (#17): which household, what was recorded and when, and —
 * for a record the server refused — why, and what the user can do about it. The server's answer
 * is kept in the outbox row as `"<status> <code>: <message>"`; the code picks the words here.
 */
import type { OutboxRow } from '../device-db/db';
import { t, type MessageKey } from '../i18n';
import { CALL_NOW, outcomeLabel, type MyHouseholds } from './model';

/** Why the server refused a record, by its stable code; what the user can do follows from it. */
export const REFUSAL_KEYS: Record<string, MessageKey> = {
  operation_not_active: 'refused.why.operation_not_active',
  not_in_operation: 'refused.why.not_in_operation',
  not_assigned: 'refused.why.not_assigned',
  invalid_outcome: 'refused.why.invalid_outcome',
  bad_device_time: 'refused.why.bad_device_time',
  shelter_required: 'refused.why.shelter',
  unknown_shelter: 'refused.why.shelter',
  shelter_ambiguous: 'refused.why.shelter',
  visit_conflict: 'refused.why.conflict',
  // A leader's report (#18).
  vc_already_reported: 'refused.why.vc_already_reported',
  vc_report_conflict: 'refused.why.conflict',
  vc_bad_date: 'refused.why.bad_device_time',
  forbidden: 'refused.why.forbidden',
};

export interface Refusal {
  status: string;
  code: string | null;
}

/** The server's status and code from the row's `last_error` (null when it was never refused). */
export function refusalOf(row: Pick<OutboxRow, 'state' | 'last_error'>): Refusal | null {
  if (row.state !== 'dead' && row.state !== 'conflict') return null;
  const m = /^(\w+)(?: (\w+))?(?::|$)/.exec(row.last_error ?? '');
  return { status: m?.[1] ?? row.state, code: m?.[2] ?? (row.state === 'conflict' ? 'visit_conflict' : null) };
}

export interface RecordView {
  clientId: string;
  operationId: string;
  householdId: string;
  /** Names (if the device may show them) and address; or a neutral text when unknown here. */
  household: string;
  /** The outcome in words and the time it was recorded on the device. */
  what: string;
  /** Why the server refused it; null while it is still waiting to be sent. */
  why: string | null;
  /** 要救助 / 緊急: the user must phone now rather than wait for a resend. */
  callNow: boolean;
}

function timeText(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString('ja-JP', { month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

function whyRefused(row: OutboxRow): string | null {
  const refusal = refusalOf(row);
  if (!refusal) return null;
  const key = refusal.code ? REFUSAL_KEYS[refusal.code] : undefined;
  return key ? t(key) : t('refused.why.other', { code: refusal.code ?? refusal.status });
}

/** One row in words, with the households this device holds for its operation (if unlocked). */
export function describeRecord(row: OutboxRow, lists: ReadonlyMap<string, MyHouseholds>): RecordView {
  const p = row.payload;
  if (p.type === 'vc_report') {
    // A leader's report names no household: the record is the team's activity report.
    const outcome = t(p.outcome === 'done' ? 'vc.report.done' : 'vc.report.continued');
    return {
      clientId: row.client_id, operationId: p.operation_id, householdId: '', household: `${p.label}${t('refused.vcReport')}`,
      what: t('refused.what', { outcome, time: timeText(p.device_time) }), why: whyRefused(row), callNow: false,
    };
  }
  const list = lists.get(p.operation_id);
  const hh = list?.households.find((x) => x.id === p.household_id);
  const names = hh?.people.map((x) => x.name).filter(Boolean).join('・') ?? '';
  const household = hh ? (names ? `${names}（${hh.address}）` : hh.address) : t('refused.unknownHousehold');
  const opName = list ? `${list.operation.mode === 'drill' ? '【訓練】' : ''}${list.operation.name}` : '';
  const outcome = outcomeLabel(p.outcome);
  const what = t('refused.what', { outcome, time: timeText(p.device_time) }) + (opName ? ` ・ ${opName}` : '');
  return { clientId: row.client_id, operationId: p.operation_id, householdId: p.household_id, household, what, why: whyRefused(row), callNow: CALL_NOW.has(p.outcome) };
}

/** Household ids with records still on this device, per kind: waiting to be sent, or refused. */
export function unsentByHousehold(rows: readonly OutboxRow[], operationId: string): Map<string, 'waiting' | 'refused'> {
  const out = new Map<string, 'waiting' | 'refused'>();
  for (const r of rows) {
    if (r.payload.type !== 'visit' || r.payload.operation_id !== operationId) continue;
    const kind = r.state === 'dead' || r.state === 'conflict' ? 'refused' : 'waiting';
    if (out.get(r.payload.household_id) !== 'refused') out.set(r.payload.household_id, kind);
  }
  return out;
}
