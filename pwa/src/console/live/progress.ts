/** Progress figures and the hand-drawn SVG chart's geometry (pure). */

export interface DistrictSummary {
  district_id: string | null;
  name: string;
  total: number;
  confirmed: number;
  overdue: number;
  need_help: number;
  time_to_first_report_s: number | null;
  statuses: Record<string, number>;
  /** No report yet, past the first-report target (not yet overdue). */
  late: number;
}

export interface Summary {
  operation: {
    id: string;
    kind: 'watch_round' | 'safety_check';
    mode: 'real' | 'drill';
    name: string;
    status: string;
    label: string;
    started_at: string | null;
    targets: number;
    first_report_minutes: number;
    completion_minutes: number;
  };
  latest_event_id: number;
  overdue_at: string | null;
  /** When unreached households turn 遅延 (the operation's first-report target). */
  late_at: string | null;
  districts: DistrictSummary[];
  statuses: Record<string, number>;
}

export interface History {
  times: string[];
  districts: Record<string, number[]>;
  total: number[];
}

/** confirmed / total, or null when there is nothing to confirm. */
export function rate(confirmed: number, total: number): number | null {
  return total > 0 ? Math.min(1, Math.max(0, confirmed / total)) : null;
}

/** Whole percent, floored so that 99.6 % never shows as "100 %" while someone is unconfirmed. */
export function percent(confirmed: number, total: number): number | null {
  const r = rate(confirmed, total);
  return r === null ? null : Math.floor(r * 100);
}

/** Totals over all districts. */
export function overall(districts: DistrictSummary[]): { total: number; confirmed: number; overdue: number; late: number; needHelp: number } {
  return districts.reduce(
    (a, d) => ({ total: a.total + d.total, confirmed: a.confirmed + d.confirmed, overdue: a.overdue + d.overdue, late: a.late + (d.late ?? 0), needHelp: a.needHelp + d.need_help }),
    { total: 0, confirmed: 0, overdue: 0, late: 0, needHelp: 0 },
  );
}

/** "1:05" style hours:minutes (or "0:00"); null stays null (no report yet). */
export function formatDuration(seconds: number | null): string | null {
  if (seconds === null || seconds < 0) return null;
  const m = Math.floor(seconds / 60);
  return `${Math.floor(m / 60)}:${String(m % 60).padStart(2, '0')}`;
}

export interface ChartGeometry {
  width: number;
  height: number;
  /** Polyline points "x,y x,y …" of the confirmation share (0–100 %) over time. */
  points: string;
  /** Y pixel of the 0 %, 50 % and 100 % grid lines. */
  grid: Array<{ y: number; label: number }>;
  last: { x: number; y: number; value: number } | null;
}

/**
 * The share of confirmed households over time as an SVG polyline, in a `width`×`height` box
 * with `pad` pixels of margin. A single point or no data still yields a valid (empty) chart.
 */
export function chartGeometry(series: number[], total: number, width = 320, height = 140, pad = 24): ChartGeometry {
  const w = width - pad * 2;
  const h = height - pad * 2;
  const y = (share: number) => pad + h - share * h;
  const grid = [0, 50, 100].map((label) => ({ y: Math.round(y(label / 100) * 10) / 10, label }));
  if (series.length === 0 || total <= 0) return { width, height, points: '', grid, last: null };
  const n = series.length;
  const pts = series.map((v, i) => {
    const x = pad + (n === 1 ? w : (w * i) / (n - 1));
    return [Math.round(x * 10) / 10, Math.round(y(Math.min(1, v / total)) * 10) / 10] as const;
  });
  const [lx, ly] = pts[pts.length - 1]!;
  return {
    width,
    height,
    points: pts.map(([a, b]) => `${a},${b}`).join(' '),
    grid,
    last: { x: lx, y: ly, value: percent(series[n - 1]!, total) ?? 0 },
  };
}
