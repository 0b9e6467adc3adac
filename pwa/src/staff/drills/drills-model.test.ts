import { describe, expect, it } from 'vitest';
import {
  comparable, compareRows, curvePoints, drillTime, parseDrillTime, percent, vcCompareRows, vcFiguresOf, vcRows,
  type ComparedFigure, type Report, type Run,
} from './drills-model';

function report(over: Partial<Report['totals']> = {}, passed: (boolean | null)[] = [true, false]): Report {
  return {
    run_id: 'r', title: '【訓練】試験', label: '【訓練】', status: 'finished', scenario: 'kasama-earthquake-m68',
    drill_start: '2027-01-15T10:00:00+09:00', duration: 'T+240:00', created_at: '2027-01-15T01:00:00Z',
    totals: { targets: 20, confirmed: 15, visits: 18, visits_by_bots: 18, first_report_s: 600, completion_s: null, ...over },
    escalations: { total: 3, acknowledged: 2, acknowledge_median_s: 240, acknowledge_max_s: 300 },
    injects: { total: 6, fired: 6, late_ms_max: 12 },
    districts: [],
    expectations: passed.map((p, i) => ({ index: i, kind: 'evaluator', text: { ja: 'x', en: null }, passed: p, mark: '', how: 'evaluator', evidence: [] })),
    timeline: [],
  };
}

describe('drills model', () => {
  it('writes drill times as T+minutes:seconds and reads them back', () => {
    expect(drillTime(0)).toBe('T+0:00');
    expect(drillTime(754.9)).toBe('T+12:34');
    expect(drillTime(null)).toBe('—');
    expect(parseDrillTime('T+240:00')).toBe(14400);
    expect(parseDrillTime('T+9:75x')).toBe(0);
  });

  it('turns a district curve into chart rows from 0 % at T+0 to the end of the drill', () => {
    const rows = curvePoints([{ district_id: 'd', name: '岩間地区', total: 4, confirmed: 2, first_report_s: 60, completion_s: null,
      curve: [[60, 1], [120, 2]] }], 600, '今年 ');
    expect(rows).toEqual([
      { series: '今年 岩間地区', minute: 0, percent: 0 },
      { series: '今年 岩間地区', minute: 1, percent: 25 },
      { series: '今年 岩間地区', minute: 2, percent: 50 },
      { series: '今年 岩間地区', minute: 10, percent: 50 },
    ]);
    expect(curvePoints([{ district_id: null, name: '-', total: 0, confirmed: 0, first_report_s: null, completion_s: null, curve: [] }], 60)).toEqual([]);
    expect(percent(1, 3)).toBe(33.3);
  });

  it('lines up two runs figure by figure', () => {
    const rows = compareRows(report(), report({ confirmed: 20, completion_s: 5400 }, [true, true]));
    const by = Object.fromEntries(rows.map((r) => [r.key, [r.a, r.b]]));
    expect(by['confirmed']).toEqual(['15 (75 %)', '20 (100 %)']);
    expect(by['completion']).toEqual(['—', 'T+90:00']);
    expect(by['expectations']).toEqual(['1 / 2', '2 / 2']);
    expect(by['ackMedian']).toEqual(['4.0', '4.0']);
  });

  it('offers only runs of the same scenario to compare with', () => {
    const run = (id: string, scenario: string | null): Run => ({ id, scenario_name: scenario } as Run);
    const list = [run('a', 'quake'), run('b', 'quake'), run('c', 'flood'), run('d', null)];
    expect(comparable(list[0]!, list).map((r) => r.id)).toEqual(['b']);
    expect(comparable(run('x', null), list)).toEqual([]);
  });

  it('shows the VC part of a VC drill as summary rows', () => {
    const rows = new Map(vcRows({
      needs: { received: 15, closed: 12, closed_by_teams: 10, closed_without_team: 2 },
      volunteers: { registered: 52, checked_in_people: 52, minors: 1, enrolled_here: 7 },
      teams: { total: 9, utilisation: 0.5624 },
      need_to_dispatch: { count: 13, median_s: 3000, max_s: null },
      dispatches: { total: 17, reported: 16, done: 12, continued: 4, near_misses: 2, injuries: 1 },
      equipment_lost: 1,
    }));
    expect(rows.get('staff.report.vcNeeds')).toBe('12 / 15');
    expect(rows.get('staff.report.vcTeams')).toBe('9（56.2 %）');
    expect(rows.get('staff.report.vcToDispatch')).toBe('50.0');
    expect(rows.get('staff.report.vcToDispatchMax')).toBe('—');
    expect(rows.get('staff.report.vcReports')).toBe('12 / 4 / 17');
  });
});

describe('the VC part of two runs side by side', () => {
  const figures = (a: number | null, b: number | null): ComparedFigure[] => [
    { key: 'needs_received', a: a === null ? null : 15, b: b === null ? null : 12 },
    { key: 'needs_closed', a, b },
    { key: 'needs_closed_without_team', a: a === null ? null : 1, b: b === null ? null : 0 },
    { key: 'volunteers_checked_in', a: a === null ? null : 52, b: b === null ? null : 40 },
    { key: 'volunteers_enrolled_here', a: a === null ? null : 7, b: b === null ? null : 3 },
    { key: 'volunteers_minors', a: a === null ? null : 1, b: b === null ? null : 0 },
    { key: 'teams', a: a === null ? null : 9, b: b === null ? null : 7 },
    { key: 'team_utilisation', a: a === null ? null : 0.5612, b: null },
    { key: 'need_to_dispatch_median_s', a: a === null ? null : 3000, b: b === null ? null : 4500 },
    { key: 'need_to_dispatch_max_s', a: a === null ? null : 9000, b: null },
    { key: 'dispatches', a: a === null ? null : 17, b: b === null ? null : 10 },
    { key: 'reports_done', a: a === null ? null : 12, b: b === null ? null : 6 },
    { key: 'reports_continued', a: a === null ? null : 5, b: b === null ? null : 4 },
    { key: 'near_misses', a: a === null ? null : 4, b: b === null ? null : 2 },
    { key: 'injuries', a: a === null ? null : 1, b: b === null ? null : 0 },
    { key: 'equipment_lost', a: a === null ? null : 1, b: b === null ? null : 0 },
  ];

  it('writes each run as the single report does', () => {
    const rows = vcCompareRows({ missing: [], figures: figures(10, 5), expectations: [] });
    const byKey = Object.fromEntries(rows.map((r) => [r.key, r]));
    expect(byKey['staff.report.vcNeeds']).toEqual({ key: 'staff.report.vcNeeds', a: '10 / 15', b: '5 / 12' });
    expect(byKey['staff.report.vcTeams']).toEqual({ key: 'staff.report.vcTeams', a: '9（56.1 %）', b: '7（—）' });
    expect(byKey['staff.report.vcToDispatch']).toEqual({ key: 'staff.report.vcToDispatch', a: '50.0', b: '75.0' });
    expect(byKey['staff.report.vcToDispatchMax']?.b).toBe('—'); // a centre without the figure: a dash
    expect(byKey['staff.report.vcVolunteers']?.a).toBe('52（7 / 1）');
    expect(rows.map((r) => r.key)).toEqual(vcRows(vcFiguresOf({ missing: [], figures: figures(1, 1), expectations: [] }, 'a')!).map(([k]) => k));
  });

  it('says a run has no centre instead of showing zeros', () => {
    const vc = { missing: ['b' as const], figures: figures(10, null), expectations: [] };
    expect(vcFiguresOf(vc, 'b')).toBeNull();
    const rows = vcCompareRows(vc);
    expect(rows.length).toBe(9);
    for (const r of rows) {
      expect(r.b).toBeNull();
      expect(r.a).not.toBeNull();
    }
    const flipped = vcCompareRows({ missing: ['a'], figures: figures(null, 5), expectations: [] });
    expect(flipped.every((r) => r.a === null && r.b !== null)).toBe(true);
    expect(flipped[0]).toEqual({ key: 'staff.report.vcNeeds', a: null, b: '5 / 12' });
  });
});
