/** The planning tool's answer (`GET /api/drills/planning`) and what the coverage screen's panel shows of it. */

/** One simulated round; seconds after the disaster, null = never (households without a watcher). */
export interface PlanFigures {
  households: number;
  watchers: number;
  unwatched: number;
  first_report_s: number | null;
  confirmed_50_s: number | null;
  confirmed_100_s: number | null;
}

export interface DistrictPlan {
  district_id: string;
  parent_id: string | null;
  code: string;
  name: string;
  level: string;
  today: PlanFigures;
  with_added: PlanFigures;
  added_watchers: number;
}

export interface Plan {
  hazard: string;
  walk_kmh: number;
  detour: number;
  hazard_slowdown: number;
  start_delay_s: number;
  dwell_s: number;
  added_requested: number;
  added_placed: number;
  new_watcher_capacity: number;
  districts: DistrictPlan[];
  placements: { district_id: string; households: number }[];
  unassigned: PlanFigures;
  totals_today: PlanFigures;
  totals_with_added: PlanFigures;
}

export const MAX_ADDED = 200;

/** Whole minutes, rounded up (a household is confirmed within that minute), or null for never. */
export function planMinutes(seconds: number | null): number | null {
  return seconds === null ? null : Math.ceil(seconds / 60);
}

/** "1:05" (hours:minutes) for a time, or the caller's word for never. */
export function planTime(seconds: number | null, never: string): string {
  const m = planMinutes(seconds);
  if (m === null) return never;
  return `${Math.floor(m / 60)}:${String(m % 60).padStart(2, '0')}`;
}

export interface PlanRow {
  districtId: string;
  name: string;
  today: PlanFigures;
  added: PlanFigures;
  addedWatchers: number;
  /** Minutes the added watchers save on the 100 % time; null when there is nothing to compare. */
  savedMinutes: number | null;
  /** Never confirmed today, every household confirmed with the added watchers. */
  nowReachable: boolean;
}

/**
 * The panel's rows: districts with households, in the given order (the district tree), the
 * weakest first when `weakestFirst` (never confirmed, then the latest 100 % time).
 */
export function planRows(plan: Plan, order: readonly string[] = [], weakestFirst = false): PlanRow[] {
  const rank = new Map(order.map((id, i) => [id, i]));
  const rows = plan.districts
    .filter((d) => d.today.households > 0)
    .map((d) => {
      const a = d.today.confirmed_100_s;
      const b = d.with_added.confirmed_100_s;
      return {
        districtId: d.district_id,
        name: d.name,
        today: d.today,
        added: d.with_added,
        addedWatchers: d.added_watchers,
        savedMinutes: a !== null && b !== null ? (planMinutes(a) ?? 0) - (planMinutes(b) ?? 0) : null,
        nowReachable: a === null && b !== null,
      };
    });
  const weakness = (r: PlanRow) => (r.today.confirmed_100_s === null ? Number.POSITIVE_INFINITY : r.today.confirmed_100_s);
  return rows.sort((x, y) =>
    weakestFirst
      ? weakness(y) - weakness(x) || y.today.unwatched - x.today.unwatched || x.name.localeCompare(y.name, 'ja')
      : (rank.get(x.districtId) ?? Number.MAX_SAFE_INTEGER) - (rank.get(y.districtId) ?? Number.MAX_SAFE_INTEGER),
  );
}

export interface ChartPoint {
  district: string;
  series: string;
  minutes: number;
  never: boolean;
}

/**
 * Bars for the chart: minutes to 100 % per district, today and with the added watchers. A round
 * that never completes is drawn to the chart's end and marked `never`.
 */
export function chartPoints(rows: readonly PlanRow[], labels: { today: string; added: string }, withAdded: boolean): ChartPoint[] {
  const finite = rows.flatMap((r) => [r.today.confirmed_100_s, r.added.confirmed_100_s]).filter((s): s is number => s !== null);
  const end = finite.length ? Math.max(...finite.map((s) => planMinutes(s) ?? 0)) : 60;
  const point = (r: PlanRow, series: string, s: number | null): ChartPoint => ({ district: r.name, series, minutes: planMinutes(s) ?? end, never: s === null });
  return rows.flatMap((r) => (withAdded ? [point(r, labels.today, r.today.confirmed_100_s), point(r, labels.added, r.added.confirmed_100_s)] : [point(r, labels.today, r.today.confirmed_100_s)]));
}
