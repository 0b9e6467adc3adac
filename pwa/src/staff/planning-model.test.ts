import { describe, expect, it } from 'vitest';
import { chartPoints, planMinutes, planRows, planTime, type Plan, type PlanFigures } from './planning-model';

const fig = (households: number, unwatched: number, full: number | null, first: number | null = 480): PlanFigures => ({
  households,
  watchers: households - unwatched > 0 ? 1 : 0,
  unwatched,
  first_report_s: first,
  confirmed_50_s: full,
  confirmed_100_s: full,
});

function plan(): Plan {
  return {
    hazard: 'earthquake',
    walk_kmh: 3,
    detour: 1.3,
    hazard_slowdown: 0.5,
    start_delay_s: 300,
    dwell_s: 180,
    added_requested: 2,
    added_placed: 2,
    new_watcher_capacity: 5,
    districts: [
      { district_id: 'a', parent_id: null, code: 'A', name: '岩間', level: 'branch', today: fig(3, 0, 1104), with_added: fig(3, 0, 972), added_watchers: 1 },
      { district_id: 'b', parent_id: null, code: 'B', name: '笠間', level: 'branch', today: fig(2, 2, null, null), with_added: fig(2, 0, 816), added_watchers: 1 },
      { district_id: 'c', parent_id: null, code: 'C', name: '友部', level: 'branch', today: fig(0, 0, null, null), with_added: fig(0, 0, null, null), added_watchers: 0 },
      { district_id: 'd', parent_id: null, code: 'D', name: '稲田', level: 'branch', today: fig(4, 0, 600), with_added: fig(4, 0, 600), added_watchers: 0 },
    ],
    placements: [
      { district_id: 'b', households: 2 },
      { district_id: 'a', households: 1 },
    ],
    unassigned: fig(0, 0, null, null),
    totals_today: fig(9, 2, null),
    totals_with_added: fig(9, 0, 1104),
  };
}

describe('planning panel model', () => {
  it('writes times as hours:minutes, rounded up to the minute, and never as the given word', () => {
    expect(planMinutes(1104)).toBe(19);
    expect(planMinutes(1080)).toBe(18);
    expect(planTime(1104, '未達')).toBe('0:19');
    expect(planTime(3 * 3600 + 61, '未達')).toBe('3:02');
    expect(planTime(null, '未達')).toBe('未達');
  });

  it('lists districts with households in tree order, or the weakest first', () => {
    const p = plan();
    expect(planRows(p, ['d', 'a', 'b', 'c']).map((r) => r.districtId)).toEqual(['d', 'a', 'b']);
    expect(planRows(p, [], true).map((r) => r.districtId)).toEqual(['b', 'a', 'd']);
  });

  it('says what the added watchers change: minutes saved, or a district that becomes reachable', () => {
    const rows = planRows(plan(), ['a', 'b', 'd']);
    const [a, b, d] = rows;
    expect(a!.savedMinutes).toBe(19 - 17);
    expect(a!.nowReachable).toBe(false);
    expect(b!.savedMinutes).toBeNull();
    expect(b!.nowReachable).toBe(true);
    expect(d!.savedMinutes).toBe(0);
  });

  it('charts the 100 % time per district and series; never runs to the end of the axis', () => {
    const rows = planRows(plan(), ['a', 'b']);
    const points = chartPoints(rows, { today: '現在', added: '追加後' }, true);
    expect(points).toEqual([
      { district: '岩間', series: '現在', minutes: 19, never: false },
      { district: '岩間', series: '追加後', minutes: 17, never: false },
      { district: '笠間', series: '現在', minutes: 19, never: true },
      { district: '笠間', series: '追加後', minutes: 14, never: false },
      { district: '稲田', series: '現在', minutes: 10, never: false },
      { district: '稲田', series: '追加後', minutes: 10, never: false },
    ]);
    expect(chartPoints(rows, { today: '現在', added: '追加後' }, false).map((p) => p.series)).toEqual(['現在', '現在', '現在']);
  });
});
