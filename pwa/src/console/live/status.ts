import { vocabLabel, type OperationKind } from '../../vocab';
import { t, type MessageKey } from '../../i18n';

/**
 * Household status on the live map: one visual encoding per derived status. Colour is never the
 * only cue — size, fill (solid vs hollow) and ring width differ too, and the legend names each
 * one with its count. Pure data, so the legend (SVG) and the map (MapLibre paint) cannot drift.
 *
 * Each operation kind keeps its own words (#17): a watch round shows 異常なし/不在/要連絡/緊急, a
 * safety check 無事/負傷/要救助/避難済/不明. 「不明」 and 「不在」 are visits (someone went there) and
 * stay apart from 未訪問 (nobody has reported yet); only the look is shared across kinds
 * (緊急 looks like 要救助, 要連絡 like 負傷, 異常なし like 無事).
 */
export const MAP_STATUSES = [
  'overdue', 'late', 'rescue', 'emergency', 'injured', 'contact', 'unknown', 'away', 'unreached', 'evacuated', 'safe', 'ok',
] as const;
export type MapStatus = (typeof MAP_STATUSES)[number];

export interface StatusStyle {
  /** Fill; `null` = hollow (only the ring). */
  fill: string | null;
  ring: string;
  ringWidth: number;
  radius: number;
  /**
   * The console's own words, where the status is not an outcome (期限超過, 遅延, 未訪問) or the legend
   * must say more than the outcome word (不在 → 不在（再訪問）, 不明 → visited but status unknown);
   * otherwise the vocabulary's outcome label is shown (`statusLabel`).
   */
  label?: MessageKey;
}

const RESCUE = { fill: '#b00020', ring: '#1b1b1b', ringWidth: 3, radius: 10 };
const INJURED = { fill: '#c25e00', ring: '#1b1b1b', ringWidth: 2, radius: 8 };
const SAFE = { fill: '#1d6b2f', ring: '#1d6b2f', ringWidth: 0, radius: 6 };

export const STATUS_STYLES: Record<MapStatus, StatusStyle> = {
  overdue: { fill: null, ring: '#b00020', ringWidth: 4, radius: 8, label: 'console.status.overdue' },
  // 遅延: no report yet and the first-report target has passed (overdue comes at the completion target).
  late: { fill: null, ring: '#8a4b00', ringWidth: 3, radius: 7, label: 'map.status.late' },
  rescue: { ...RESCUE },
  emergency: { ...RESCUE },
  injured: { ...INJURED },
  contact: { ...INJURED },
  // Visited, but the status could not be learnt: grey, smaller ring, not the white 未訪問.
  unknown: { fill: '#5f5f5f', ring: '#1b1b1b', ringWidth: 1, radius: 7, label: 'console.status.unknown' },
  // Visited, nobody at home (re-visit): hollow purple ring.
  away: { fill: null, ring: '#5b3a8a', ringWidth: 2, radius: 7, label: 'console.status.away' },
  unreached: { fill: '#ffffff', ring: '#4a4a4a', ringWidth: 2, radius: 6, label: 'console.status.unreached' },
  evacuated: { fill: '#1a4fd6', ring: '#ffffff', ringWidth: 2, radius: 7 },
  safe: { ...SAFE },
  ok: { ...SAFE },
};

/** The statuses an operation of this kind can show, worst first (legend, filter and counts). */
export const KIND_STATUSES: Record<OperationKind, readonly MapStatus[]> = {
  safety_check: ['overdue', 'late', 'rescue', 'injured', 'unknown', 'unreached', 'evacuated', 'safe'],
  watch_round: ['overdue', 'late', 'emergency', 'contact', 'away', 'unreached', 'ok'],
};

/** What a map status is called in the current language (legend, filter, detail panel). */
export function statusLabel(status: MapStatus): string {
  const key = STATUS_STYLES[status].label;
  return key ? t(key) : vocabLabel('outcomes', status);
}

export function statusesFor(kind: OperationKind | undefined): readonly MapStatus[] {
  return KIND_STATUSES[kind ?? 'safety_check'];
}

const KNOWN = new Set<string>(MAP_STATUSES);

/** A server status as the map shows it; anything unknown (or none yet) is 未訪問. */
export function mapStatus(status: string | null | undefined): MapStatus {
  return status && KNOWN.has(status) ? (status as MapStatus) : 'unreached';
}

/** Counts per status of this kind from the server's per-status counts (every status listed, 0 if none). */
export function foldCounts(statuses: Record<string, number>, kind?: OperationKind): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(statusesFor(kind).map((s) => [s, 0]));
  for (const [k, n] of Object.entries(statuses)) {
    const m = mapStatus(k);
    out[m] = (out[m] ?? 0) + n;
  }
  return out;
}

type Expr = unknown[];

/**
 * The live status of a feature: the feature-state set from the event stream wins over the
 * status baked into the tile (tiles are fetched once; events keep them current).
 */
export const LIVE_STATUS: Expr = ['coalesce', ['feature-state', 'status'], ['get', 'status']];

function byStatus<T>(pick: (s: StatusStyle) => T, fallback: T): Expr {
  const pairs: unknown[] = [];
  for (const s of MAP_STATUSES) pairs.push(s, pick(STATUS_STYLES[s]));
  return ['match', LIVE_STATUS, ...pairs, fallback];
}

/** MapLibre circle paint for the households layer (feature-state aware: no tile reload needed). */
export function householdPaint(): Record<string, unknown> {
  return {
    'circle-radius': byStatus((s) => s.radius, 6),
    'circle-color': byStatus((s) => s.fill ?? '#ffffff', '#ffffff'),
    'circle-opacity': byStatus((s) => (s.fill ? 1 : 0), 1),
    'circle-stroke-color': byStatus((s) => s.ring, '#4a4a4a'),
    'circle-stroke-width': byStatus((s) => s.ringWidth, 2),
  };
}

/** District fill by confirmation rate (0–1), from feature-state set from the summary. */
export const RATE_STOPS: Array<[number, string]> = [
  [0, '#fde0dd'],
  [0.5, '#fdd49e'],
  [0.8, '#c7e9c0'],
  [1, '#74c476'],
];

export function districtFillPaint(): Record<string, unknown> {
  return {
    'fill-color': [
      'case',
      ['==', ['feature-state', 'rate'], null],
      'rgba(0,0,0,0)',
      ['interpolate', ['linear'], ['feature-state', 'rate'], ...RATE_STOPS.flat()],
    ],
    'fill-opacity': ['case', ['==', ['feature-state', 'rate'], null], 0, 0.55],
  };
}

/** The rate band a district falls in, for the legend and the table (text, not just colour). */
export function rateBand(rate: number | null): 0 | 1 | 2 | 3 | null {
  if (rate === null || Number.isNaN(rate)) return null;
  if (rate >= 1) return 3;
  if (rate >= 0.8) return 2;
  if (rate >= 0.5) return 1;
  return 0;
}
