import { ApiError } from '../api/errors';

export interface Numbers {
  households: number;
  with_0: number;
  with_1: number;
  with_2_plus: number;
  in_hazard: number;
  in_hazard_weak: number;
  watchers: number;
  watchers_available: number;
  watchers_over_capacity: number;
  spare_capacity: number;
  /** Households with a watcher beyond the walking radius (counted as weak cover). */
  with_far_watcher: number;
}

export interface Coverage {
  district_id: string | null;
  districts: { district_id: string; parent_id: string | null; code: string; name: string; level: string; walking_radius_m: number; numbers: Numbers }[];
  unassigned: Numbers | null;
  totals: Numbers;
  over_capacity: { watcher_id: string; district_id: string | null; role: string; load: number; capacity: number }[];
}

export interface Suggestion {
  household_id: string;
  kind: 'primary' | 'backup' | string;
  watcher_id: string;
  distance_m: number;
}

/** Share of support-needing households with the two watchers the brief asks for (0–100, one decimal). */
export function coveredPercent(n: Pick<Numbers, 'households' | 'with_2_plus'>): number {
  if (n.households === 0) return 100;
  return Math.round((n.with_2_plus / n.households) * 1000) / 10;
}

/** Suggestions grouped per household (primary first), households in the order the server ranked them. */
export function groupSuggestions(list: readonly Suggestion[]): { householdId: string; items: Suggestion[] }[] {
  const order: string[] = [];
  const by = new Map<string, Suggestion[]>();
  for (const s of list) {
    if (!by.has(s.household_id)) {
      by.set(s.household_id, []);
      order.push(s.household_id);
    }
    by.get(s.household_id)!.push(s);
  }
  const rank = (k: string) => (k === 'primary' ? 0 : 1);
  return order.map((id) => ({ householdId: id, items: [...by.get(id)!].sort((a, b) => rank(a.kind) - rank(b.kind) || a.distance_m - b.distance_m) }));
}

/**
 * `POST /api/watch/links` body for accepting a suggestion as is, or with another watcher ("change").
 * `confirmFar`: staff confirmed a watcher who lives beyond the walking radius.
 */
export function linkPayload(s: Suggestion, watcherId: string = s.watcher_id, confirmFar = false): Record<string, unknown> {
  const body: Record<string, unknown> = { household_id: s.household_id, watcher_id: watcherId, kind: s.kind === 'backup' ? 'backup' : 'primary', via: watcherId === s.watcher_id ? 'suggestion' : 'manual' };
  if (confirmFar) body['confirm_far'] = true;
  return body;
}

/** The server's "this watcher lives beyond walking distance" answer (409), or null for any other. */
export function farLinkWarning(err: unknown): { distance: number; radius: number } | null {
  if (!(err instanceof ApiError) || err.code !== 'watch_link_beyond_radius') return null;
  const distance = Number(err.problem.extensions?.['distance_m']);
  const radius = Number(err.problem.extensions?.['walking_radius_m']);
  return Number.isFinite(distance) && Number.isFinite(radius) ? { distance, radius } : null;
}
