import { describe, expect, it } from 'vitest';
import { dailySheet, dailySheetPath, parseDay } from './daily-sheet-model';
import type { DayStatistics, Statistics } from './model';

const dayOf = (vc_day: string, over: Partial<DayStatistics> = {}): DayStatistics => ({
  vc_day, volunteers: 0, individual: 0, group: 0, out_of_prefecture: 0, cumulative_volunteers: 0,
  activities: 0, needs_received: 0, needs_surveyed: 0, needs_closed: 0, needs_open: 0, ...over,
});

const stats: Statistics = {
  operation_id: 'op', label: '【訓練】',
  days: [dayOf('2026-12-06', {
    volunteers: 62, individual: 46, group: 16, out_of_prefecture: 9, cumulative_volunteers: 1234,
    activities: 11, needs_received: 20, needs_surveyed: 14, needs_closed: 6, needs_open: 31,
  })],
  by_work_type: { mud_out: 7, carry_out: 12, cleaning: 7, tidying: 0 },
  by_district: { d1: 3, d2: 15, '': 2, gone: 1 },
};

describe('the A4 daily sheet of a VC day', () => {
  it("lays out the day's figures, the drill label and the breakdowns largest first", () => {
    const sheet = dailySheet(stats, '2026-12-06', new Map([['d1', '笠間'], ['d2', '友部']]))!;
    expect(sheet.label).toBe('【訓練】');
    expect(Object.fromEntries(sheet.volunteers.map((f) => [f.key, f.value]))).toEqual({
      volunteers: 62, individual: 46, group: 16, out_of_prefecture: 9, cumulative_volunteers: 1234, activities: 11,
    });
    expect(Object.fromEntries(sheet.needs.map((f) => [f.key, f.value]))).toEqual({ needs_received: 20, needs_surveyed: 14, needs_closed: 6, needs_open: 31 });
    // Labels from the one vocabulary; zero rows left out; equal counts in the vocabulary's order.
    expect(sheet.byWorkType).toEqual([{ label: '家財搬出', count: 12 }, { label: '泥出し', count: 7 }, { label: '清掃', count: 7 }]);
    expect(sheet.byDistrict).toEqual([{ label: '友部', count: 15 }, { label: '笠間', count: 3 }, { label: '地区なし', count: 2 }, { label: '（不明な地区）', count: 1 }]);
    const tie = dailySheet({ ...stats, by_district: { '': 2, gone: 2, d2: 2, d1: 2 } }, '2026-12-06', new Map([['d1', 'A地区'], ['d2', 'B地区']]))!;
    expect(tie.byDistrict.map((r) => r.label)).toEqual(['A地区', 'B地区', '（不明な地区）', '地区なし']);
  });

  it('has no sheet for a day the answer does not hold, and takes only real dates', () => {
    expect(dailySheet(stats, '2026-12-05', new Map())).toBeNull();
    expect(parseDay('2026-12-06')).toBe('2026-12-06');
    for (const bad of ['2026-02-30', '2026-12-6', 'today', '', undefined, '2026-12-06T00:00']) expect(parseDay(bad)).toBeNull();
    expect(dailySheetPath('op 1', '2026-12-06')).toBe('/staff/vc/op%201/day/2026-12-06');
  });
});
