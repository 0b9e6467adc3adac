import type { MessageKey } from '../../i18n';

/**
 * Household status on the live map: one visual encoding per derived status. Colour is never the
 * only cue — size, fill (solid vs hollow) and ring width differ too, and the legend names each
 * one with its count. Pure data, so the legend (SVG) and the map (MapLibre paint) cannot drift.
 */
export const MAP_STATUSES = ['overdue', 'late', 'rescue', 'injured', 'unreached', 'evacuated', 'safe'] as const;
export type MapStatus = (typeof MAP_STATUSES)[number];

export interface StatusStyle {
  /** Fill; `null` = hollow (only the ring). */
  fill: string | null;
  ring: string;
  ringWidth: number;
  radius: number;
  label: MessageKey;
}

export const STATUS_STYLES: Record<MapStatus, StatusStyle> = {
  overdue: { fill: null, ring: '#b00020', ringWidth: 4, radius: 8, label: 'console.status.overdue' },
  // 遅延: no report yet and the first-report target has passed (overdue comes at the completion target).
  late: { fill: null, ring: '#8a4b00', ringWidth: 3, radius: 7, label: 'map.status.late' },
  rescue: { fill: '#b00020', ring: '#1b1b1b', ringWidth: 3, radius: 10, label: 'console.status.rescue' },
  injured: { fill: '#c25e00', ring: '#1b1b1b', ringWidth: 2, radius: 8, label: 'console.status.injured' },
  unreached: { fill: '#ffffff', ring: '#4a4a4a', ringWidth: 2, radius: 6, label: 'op.status.unreached' },
  evacuated: { fill: '#1a4fd6', ring: '#ffffff', ringWidth: 2, radius: 7, label: 'console.status.evacuated' },
  safe: { fill: '#1d6b2f', ring: '#1d6b2f', ringWidth: 0, radius: 6, label: 'console.status.safe' },
};

/**
 * Server statuses → the seven the map shows, written once (mapStatus, the map's paint and its
 * status filter all read it). Watch-round outcomes fold into the nearest meaning (緊急 → needs
 * rescue, 要連絡 → injured/needs care, 不在・不明 → still unreached).
 */
export const STATUS_ALIASES: Record<MapStatus, string[]> = {
  overdue: ['overdue'],
  late: ['late'],
  rescue: ['rescue', 'emergency'],
  injured: ['injured', 'contact'],
  unreached: ['unreached', 'away', 'unknown'],
  evacuated: ['evacuated'],
  safe: ['safe', 'ok'],
};

const MAP_STATUS_OF = new Map<string, MapStatus>(
  MAP_STATUSES.flatMap((m) => STATUS_ALIASES[m].map((s) => [s, m] as [string, MapStatus])),
);

export function mapStatus(status: string | null | undefined): MapStatus {
  return (status && MAP_STATUS_OF.get(status)) || 'unreached';
}

/** Counts per map status from the server's per-status counts. */
export function foldCounts(statuses: Record<string, number>): Record<MapStatus, number> {
  const out = Object.fromEntries(MAP_STATUSES.map((s) => [s, 0])) as Record<MapStatus, number>;
  for (const [k, n] of Object.entries(statuses)) out[mapStatus(k)] += n;
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
  for (const s of MAP_STATUSES) pairs.push(STATUS_ALIASES[s], pick(STATUS_STYLES[s]));
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
