/**
 * The needs map's pure rules (Vitest): the colour and size of a need by its state, the tile URL of
 * one centre's needs, and what a live `vc.need` event does to the map. MapLibre stays out of here.
 */
import { vocabCodes } from '../vocab';

/**
 * 受付 → 調査 → マッチ待ち → 活動中 → 完了 / 継続. Waiting needs (the desk's work) are the largest,
 * closed ones the smallest and grey, so the state shows by size as well as colour; the legend names them.
 */
export const NEED_STATE_STYLE: Readonly<Record<string, { color: string; radius: number }>> = {
  received: { color: '#1f5fa8', radius: 8 },
  survey: { color: '#6a3d9a', radius: 8 },
  waiting: { color: '#c2410c', radius: 10 },
  active: { color: '#15803d', radius: 9 },
  done: { color: '#6b6b6b', radius: 5 },
  continued: { color: '#a16207', radius: 9 },
};

const FALLBACK = { color: '#000000', radius: 7 };

export function needStyle(state: string): { color: string; radius: number } {
  return NEED_STATE_STYLE[state] ?? FALLBACK;
}

/** The state a feature is drawn with: a live change (feature-state) wins over the tile's. */
const STATE_EXPR = ['coalesce', ['feature-state', 'state'], ['get', 'state']];

/** MapLibre circle paint for the needs layer, one colour and radius per state of the vocabulary. */
export function needsPaint(): Record<string, unknown> {
  const match = (pick: 'color' | 'radius') => [
    'match',
    STATE_EXPR,
    ...vocabCodes('vc_need_states').flatMap((s) => [s, needStyle(s)[pick]]),
    FALLBACK[pick],
  ];
  return {
    'circle-color': match('color'),
    'circle-radius': match('radius'),
    'circle-stroke-color': '#ffffff',
    'circle-stroke-width': 2,
  };
}

/** The vector tiles of one centre's needs (server/maps/tiles/vc_needs.py), absolute for MapLibre. */
export function needsTileUrl(origin: string, operationId: string): string {
  return `${origin}/api/tiles/vc-needs/{z}/{x}/{y}.mvt?operation_id=${encodeURIComponent(operationId)}`;
}

export type NeedMapAction = { kind: 'state'; id: string; state: string } | { kind: 'reload' } | { kind: 'ignore' };

/**
 * A `vc.need` event on the map: a need the map holds changes colour at once (feature-state); a
 * need it does not hold yet (just taken) means fetching the tiles again.
 */
export function needMapAction(known: ReadonlySet<string>, event: Readonly<Record<string, unknown>>): NeedMapAction {
  const id = event['need_id'];
  const state = event['state'];
  if (typeof id !== 'string' || typeof state !== 'string') return { kind: 'ignore' };
  return known.has(id) ? { kind: 'state', id, state } : { kind: 'reload' };
}
