import type { MessageKey } from '../i18n';
import { vocabCodes } from '../vocab';

/** `GET /api/vc/centres/`: one centre (an operation of kind `vc`). */
export interface Centre {
  operation_id: string;
  name: string;
  mode: 'real' | 'drill' | string;
  status: string;
  opened_on: string;
  lon: number;
  lat: number;
  /** "【訓練】" for a drill centre, "" otherwise: the server decides, every screen shows it. */
  label: string;
}

export interface Need {
  id: string;
  operation_id: string;
  requester_name: string;
  requester_kana: string;
  phone: string | null;
  address: string;
  lon: number;
  lat: number;
  location_approximate: boolean;
  damage_kinds: string[];
  work_types: string[];
  equipment: string[];
  flags: string[];
  people_needed: number;
  hours_estimated: number | null;
  needs_truck: boolean;
  notes: string | null;
  remaining: string | null;
  state: string;
  received_on: string;
  closed_on: string | null;
  label: string;
}

export interface Duplicate {
  need_id: string;
  requester_name: string;
  address: string;
  state: string;
  reasons: string[];
  distance_m: number | null;
}

export interface Volunteer {
  id: string;
  kind: string;
  name: string;
  group_name: string | null;
  group_size: number;
  age_band: string;
  prefecture: string;
  skills: string[];
  light_truck: boolean;
  insurance: string;
  guardian_consent_by: string | null;
  registered_via: string;
  checked_in_on: string | null;
  label: string;
}

export interface Team {
  id: string;
  vc_day: string;
  name: string;
  leader_id: string;
  member_ids: string[];
  people: number;
  light_truck: boolean;
  skills: string[];
  label: string;
}

export interface Suggestion {
  need_id: string;
  score: number;
  reasons: string;
  people_needed: number;
  distance_km: number;
}

export interface TeamSuggestions {
  team_id: string;
  team_name: string;
  people: number;
  suggestions: Suggestion[];
}

export interface Dispatch {
  id: string;
  operation_id: string;
  team_id: string;
  need_id: string;
  vc_day: string;
  state: string;
  equipment: Record<string, number>;
  label: string;
}

export interface EquipmentRow {
  code: string;
  stock: number;
  out: number;
  lost: number;
}

export interface DayStatistics {
  vc_day: string;
  volunteers: number;
  individual: number;
  group: number;
  out_of_prefecture: number;
  cumulative_volunteers: number;
  activities: number;
  needs_received: number;
  needs_surveyed: number;
  needs_closed: number;
  needs_open: number;
}

export interface Statistics {
  operation_id: string;
  label: string;
  days: DayStatistics[];
  by_work_type: Record<string, number>;
  by_district: Record<string, number>;
}

/** `GET /api/vc/me`: the volunteer's phone view. */
export interface MyDispatch {
  volunteer_id: string;
  team: Team | null;
  dispatch: Dispatch | null;
  need: {
    id: string;
    work_types: string[];
    equipment: string[];
    lon: number;
    lat: number;
    location_approximate: boolean;
    requester_name: string | null;
    address: string | null;
    phone: string | null;
  } | null;
  emergency: string[];
  /** The answer's centre: "【訓練】" for a drill. */
  label: string;
  operation_id?: string | null;
  centre?: string;
  /** Every centre this login is a volunteer at (open first, newest first), each with its label. */
  centres?: MyCentre[];
}

export interface MyCentre {
  operation_id: string;
  name: string;
  status: string;
  label: string;
}

/** The API address and device cache key of the phone view: the server's choice, or one centre asked for. */
export function myDispatchSource(operationId: string | null): { url: string; cacheKey: string } {
  return operationId
    ? { url: `/api/vc/me?operation_id=${encodeURIComponent(operationId)}`, cacheKey: `vc-me:${operationId}` }
    : { url: '/api/vc/me', cacheKey: 'vc-me' };
}

/** The login's other centres, to switch to (a drill one keeps its 【訓練】 in its name). */
export function otherCentres(mine: MyDispatch | null): MyCentre[] {
  return (mine?.centres ?? []).filter((c) => c.operation_id !== mine?.operation_id);
}

/** The desk's steps, in the order of the day; each is a tab of `/staff/vc/:op/:step`. */
export const DESK_STEPS = ['board', 'map', 'intake', 'reception', 'teams', 'matching', 'dispatch', 'stats'] as const;
export type DeskStep = (typeof DESK_STEPS)[number];

export function isDeskStep(value: string | undefined): value is DeskStep {
  return (DESK_STEPS as readonly string[]).includes(value ?? '');
}

export const STEP_LABEL: Record<DeskStep, MessageKey> = {
  board: 'vc.step.board',
  map: 'vc.step.map',
  intake: 'vc.step.intake',
  reception: 'vc.step.reception',
  teams: 'vc.step.teams',
  matching: 'vc.step.matching',
  dispatch: 'vc.step.dispatch',
  stats: 'vc.step.stats',
};

export function deskPath(operationId: string, step: DeskStep): string {
  return `/staff/vc/${encodeURIComponent(operationId)}/${step}`;
}

/** Needs in the board's columns (受付 → 調査 → マッチ待ち → 活動中 → 完了 / 継続), vocabulary order. */
export function boardColumns(needs: readonly Need[]): [string, Need[]][] {
  return vocabCodes('vc_need_states').map((state) => [state, needs.filter((n) => n.state === state)]);
}

/** A `vc.need` event moves one card; an unknown need means the board must be fetched again. */
export function applyNeedEvent(needs: readonly Need[], event: Readonly<Record<string, unknown>>): Need[] | null {
  if (typeof event.need_id !== 'string' || typeof event.state !== 'string') return needs.slice();
  const i = needs.findIndex((n) => n.id === event.need_id);
  if (i < 0) return null;
  const out = needs.slice();
  out[i] = { ...needs[i]!, state: event.state };
  return out;
}

/**
 * What a scanned or typed QR holds: the opaque token, trimmed. A reader adds a newline or spaces;
 * a URL form (`…?t=TOKEN`) is accepted too, in case a printed code carries one.
 */
export function tokenFromScan(raw: string): string | null {
  const text = raw.trim();
  if (!text) return null;
  try {
    const url = new URL(text);
    const t = url.searchParams.get('t') ?? url.searchParams.get('token');
    if (t) return t.trim() || null;
  } catch {
    // Not a URL: the token itself.
  }
  return text.length <= 200 ? text : null;
}

/** Volunteers not yet in a team today (the team form offers only these). */
export function unassigned(volunteers: readonly Volunteer[], teams: readonly Team[]): Volunteer[] {
  const taken = new Set(teams.flatMap((t) => t.member_ids));
  return volunteers.filter((v) => !taken.has(v.id));
}

/** People a set of volunteers brings (a group counts its size). */
export function peopleOf(volunteers: readonly Volunteer[]): number {
  return volunteers.reduce((sum, v) => sum + (v.kind === 'group' ? v.group_size : 1), 0);
}

/** Equipment lines of a dispatch form: only positive whole quantities. */
export function equipmentLines(quantities: Record<string, string>): { code: string; quantity: number }[] {
  return Object.entries(quantities)
    .map(([code, q]) => ({ code, quantity: Number(q) }))
    .filter((l) => Number.isInteger(l.quantity) && l.quantity > 0);
}

/** The whole `equipment` dict back on the shelf (the report's default returns). */
export function fullReturns(equipment: Record<string, number>): { code: string; returned: number }[] {
  return Object.entries(equipment)
    .filter(([, n]) => n > 0)
    .map(([code, n]) => ({ code, returned: n }));
}

/** Return lines of the desk's returns form: per item, whole numbers ≥ 0; items with nothing are left out. */
export function returnLines(inputs: Record<string, { returned: string; lost: string }>): { code: string; returned: number; lost: number }[] {
  const whole = (v: string) => (v.trim() === '' ? 0 : Number(v));
  return Object.entries(inputs)
    .map(([code, v]) => ({ code, returned: whole(v.returned), lost: whole(v.lost) }))
    .filter((l) => Number.isInteger(l.returned) && Number.isInteger(l.lost) && l.returned >= 0 && l.lost >= 0 && l.returned + l.lost > 0);
}

/**
 * The report form's numbers as the server accepts them (people and injuries whole 0–500, hours
 * 0–24), or null: checked before the report is queued, so a typo is fixed on the spot instead of
 * coming back later as a refused record.
 */
export function reportNumbers(form: { people: string; hours: string; injuries: string }): { people: number; hours: number; injuries: number } | null {
  const num = (v: string) => (v.trim() === '' ? NaN : Number(v));
  const people = num(form.people);
  const hours = num(form.hours);
  const injuries = form.injuries.trim() === '' ? 0 : num(form.injuries);
  const whole = (n: number) => Number.isInteger(n) && n >= 0 && n <= 500;
  if (!whole(people) || !whole(injuries) || !(hours >= 0 && hours <= 24)) return null;
  return { people, hours, injuries };
}
