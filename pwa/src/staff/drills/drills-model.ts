/**
 * The drill screens' data (`/api/drills/…`) and the pure shaping the pages need: drill times,
 * the confirmation curves as chart rows, and the figures of two runs side by side.
 */

export type Speed = '1x' | '10x' | '60x' | 'max';
export const SPEEDS: readonly Speed[] = ['1x', '10x', '60x', 'max'];

export interface ScenarioSummary {
  name: string | null;
  title: string;
  exercise: string;
  hazard: string;
  injects: number;
  expectations: number;
  duration: string;
}

export interface Run {
  id: string;
  title: string;
  label: string;
  scenario_name: string | null;
  operation_id: string | null;
  exercise: 'safety_check' | 'vc' | string;
  /** A VC run's drill centre: its operation and the day it opened (the daily sheet's day). */
  centre: { operation_id: string; opened_on: string } | null;
  status: 'running' | 'paused' | 'stopped' | 'finished';
  speed: Speed;
  clock: string;
  clock_s: number;
  duration: string;
  injects: number;
  fired: number;
  next_inject: string | null;
  created_at: string;
  ended_at: string | null;
  archived_at: string | null;
}

export interface DistrictFigures {
  district_id: string | null;
  name: string;
  total: number;
  confirmed: number;
  first_report_s: number | null;
  completion_s: number | null;
  curve: [number, number][];
}

export interface Expectation {
  index: number;
  kind: string;
  text: { ja: string; en: string | null };
  passed: boolean | null;
  mark: string;
  how: 'automatic' | 'evaluator';
  evidence: Record<string, unknown>[];
}

export interface TimelineItem {
  at: string | null;
  at_s: number | null;
  type: 'inject' | 'visit' | 'escalation' | 'acknowledged';
  kind: string;
  label: string;
  text?: string;
  district?: string | null;
  by?: 'bot' | 'person';
  ref: string;
}

export interface Report {
  run_id: string;
  title: string;
  label: string;
  status: string;
  scenario: string | null;
  drill_start: string;
  duration: string;
  created_at: string;
  totals: {
    targets: number;
    confirmed: number;
    visits: number;
    visits_by_bots: number;
    first_report_s: number | null;
    completion_s: number | null;
  };
  escalations: { total: number; acknowledged: number; acknowledge_median_s: number | null; acknowledge_max_s: number | null };
  injects: { total: number; fired: number; late_ms_max: number | null };
  districts: DistrictFigures[];
  expectations: Expectation[];
  timeline: TimelineItem[];
  /** The volunteer-centre part, for a VC drill (exercise: vc). */
  vc?: VcFigures | null;
}

export interface VcFigures {
  needs: { received: number; closed: number; closed_by_teams: number; closed_without_team: number };
  volunteers: { registered: number; checked_in_people: number; minors: number; enrolled_here: number };
  teams: { total: number; utilisation: number | null };
  need_to_dispatch: { count: number; median_s: number | null; max_s: number | null };
  dispatches: { total: number; reported: number; done: number; continued: number; near_misses: number; injuries: number };
  equipment_lost: number;
}

/** The VC part's figures as (label key, value) rows of the report's summary. */
export function vcRows(vc: VcFigures): [VcRowKey, string][] {
  const share = vc.teams.utilisation === null ? '—' : `${Math.round(vc.teams.utilisation * 1000) / 10} %`;
  return [
    ['staff.report.vcNeeds', `${vc.needs.closed} / ${vc.needs.received}`],
    ['staff.report.vcClosedWithoutTeam', String(vc.needs.closed_without_team)],
    ['staff.report.vcVolunteers', `${vc.volunteers.checked_in_people}（${vc.volunteers.enrolled_here} / ${vc.volunteers.minors}）`],
    ['staff.report.vcTeams', `${vc.teams.total}（${share}）`],
    ['staff.report.vcToDispatch', minutes(vc.need_to_dispatch.median_s)],
    ['staff.report.vcToDispatchMax', minutes(vc.need_to_dispatch.max_s)],
    ['staff.report.vcReports', `${vc.dispatches.done} / ${vc.dispatches.continued} / ${vc.dispatches.total}`],
    ['staff.report.vcSafety', `${vc.dispatches.near_misses} / ${vc.dispatches.injuries}`],
    ['staff.report.vcLost', String(vc.equipment_lost)],
  ];
}

export type VcRowKey =
  | 'staff.report.vcNeeds'
  | 'staff.report.vcClosedWithoutTeam'
  | 'staff.report.vcVolunteers'
  | 'staff.report.vcTeams'
  | 'staff.report.vcToDispatch'
  | 'staff.report.vcToDispatchMax'
  | 'staff.report.vcReports'
  | 'staff.report.vcSafety'
  | 'staff.report.vcLost';

/** Drill time as `T+minutes:seconds`, or — when it never happened. */
export function drillTime(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.floor(seconds);
  return `T+${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** Seconds as minutes with one decimal (acknowledgement times), or —. */
export function minutes(seconds: number | null | undefined): string {
  return seconds === null || seconds === undefined ? '—' : (seconds / 60).toFixed(1);
}

export function percent(part: number, whole: number): number {
  return whole > 0 ? Math.round((1000 * part) / whole) / 10 : 0;
}

export interface CurvePoint {
  series: string;
  minute: number;
  percent: number;
}

/**
 * Each district's confirmation curve as chart rows (share of its households confirmed over
 * drill minutes), starting at 0 % at T+0 and held flat to `endSeconds`; `prefix` names the run
 * when two runs share a chart.
 */
export function curvePoints(districts: DistrictFigures[], endSeconds: number, prefix = ''): CurvePoint[] {
  const rows: CurvePoint[] = [];
  for (const d of districts) {
    if (d.total === 0) continue;
    const series = prefix + d.name;
    rows.push({ series, minute: 0, percent: 0 });
    for (const [s, n] of d.curve) rows.push({ series, minute: s / 60, percent: percent(n, d.total) });
    const last = d.curve.at(-1);
    const endMinute = Math.max(endSeconds, last ? last[0] : 0) / 60;
    rows.push({ series, minute: endMinute, percent: last ? percent(last[1], d.total) : 0 });
  }
  return rows;
}

/** `T+240:00` → 14400 (0 when unreadable). */
export function parseDrillTime(value: string): number {
  const m = /^T\+(\d+):(\d{2})$/.exec(value);
  return m ? Number(m[1]) * 60 + Number(m[2]) : 0;
}

export interface CompareRow {
  key: string;
  a: string;
  b: string;
}

/** The key figures of two runs (this year's drill against last year's), row by row. */
export function compareRows(a: Report, b: Report): CompareRow[] {
  const fig = (r: Report): Record<string, string> => ({
    targets: String(r.totals.targets),
    confirmed: `${r.totals.confirmed} (${percent(r.totals.confirmed, r.totals.targets)} %)`,
    firstReport: drillTime(r.totals.first_report_s),
    completion: drillTime(r.totals.completion_s),
    escalations: `${r.escalations.acknowledged} / ${r.escalations.total}`,
    ackMedian: minutes(r.escalations.acknowledge_median_s),
    expectations: `${r.expectations.filter((e) => e.passed === true).length} / ${r.expectations.length}`,
  });
  const fa = fig(a);
  const fb = fig(b);
  return Object.keys(fa).map((key) => ({ key, a: fa[key] ?? '—', b: fb[key] ?? '—' }));
}

/** Runs of the same scenario as `run`, other than itself, newest first (for "compare with"). */
export function comparable(run: Run, runs: Run[]): Run[] {
  return runs.filter((r) => r.id !== run.id && r.scenario_name !== null && r.scenario_name === run.scenario_name);
}

/** One figure of two runs (`GET /api/drills/runs/:a/compare/:b`); null = none in that run. */
export interface ComparedFigure {
  key: string;
  a: number | null;
  b: number | null;
}

export interface ComparedExpectation {
  kind: string;
  text: { ja: string; en: string | null };
  a: { mark: string; passed: boolean | null } | null;
  b: { mark: string; passed: boolean | null } | null;
}

export interface Comparison {
  label: string;
  same_scenario: boolean;
  runs: { run_id: string; title: string; scenario: string | null; created_at: string; has_vc: boolean }[];
  figures: ComparedFigure[];
  expectations: ComparedExpectation[];
  /** The volunteer-centre part when either run opened a drill centre; `missing` names the run(s) without one. */
  vc: { missing: ('a' | 'b')[]; figures: ComparedFigure[]; expectations: ComparedExpectation[] } | null;
}

/** One run's VC figures out of a comparison, or null when that run has no centre (never zeros). */
export function vcFiguresOf(vc: NonNullable<Comparison['vc']>, side: 'a' | 'b'): VcFigures | null {
  if (vc.missing.includes(side)) return null;
  const f = new Map(vc.figures.map((x) => [x.key, x[side]]));
  const n = (key: string): number => f.get(key) ?? 0;
  return {
    needs: { received: n('needs_received'), closed: n('needs_closed'), closed_by_teams: 0, closed_without_team: n('needs_closed_without_team') },
    volunteers: { registered: 0, checked_in_people: n('volunteers_checked_in'), minors: n('volunteers_minors'), enrolled_here: n('volunteers_enrolled_here') },
    teams: { total: n('teams'), utilisation: f.get('team_utilisation') ?? null },
    need_to_dispatch: { count: 0, median_s: f.get('need_to_dispatch_median_s') ?? null, max_s: f.get('need_to_dispatch_max_s') ?? null },
    dispatches: { total: n('dispatches'), reported: 0, done: n('reports_done'), continued: n('reports_continued'), near_misses: n('near_misses'), injuries: n('injuries') },
    equipment_lost: n('equipment_lost'),
  };
}

export interface VcCompareRow {
  key: VcRowKey;
  /** The run's figure as the single report writes it, or null: that run has no centre. */
  a: string | null;
  b: string | null;
}

/** The VC part of two runs row by row, with the single report's rows and wording. */
export function vcCompareRows(vc: NonNullable<Comparison['vc']>): VcCompareRow[] {
  const a = vcFiguresOf(vc, 'a');
  const b = vcFiguresOf(vc, 'b');
  const rowsA = a ? vcRows(a) : null;
  const rowsB = b ? vcRows(b) : null;
  const keys = (rowsA ?? rowsB ?? []).map(([k]) => k);
  return keys.map((key, i) => ({ key, a: rowsA?.[i]?.[1] ?? null, b: rowsB?.[i]?.[1] ?? null }));
}
