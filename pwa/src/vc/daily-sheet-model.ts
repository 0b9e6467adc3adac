// The A4 daily sheet of a VC day (振り返り, #18): the day's figures from the statistics API laid out
// for paper. Pure functions, so the layout's content is tested without a browser.
import { t, type MessageKey } from '../i18n';
import { vocabCodes, vocabLabel } from '../vocab';
import type { Statistics } from './model';

export interface SheetFigure {
  key: string;
  label: MessageKey;
  value: number;
}

export interface SheetBreakdown {
  label: string;
  count: number;
}

export interface DailySheet {
  day: string;
  /** "【訓練】" on a drill centre (the server's label), "" otherwise. */
  label: string;
  volunteers: SheetFigure[];
  needs: SheetFigure[];
  byWorkType: SheetBreakdown[];
  byDistrict: SheetBreakdown[];
}

/** `/staff/vc/:op/day/:day`: the sheet's own path (linked from the desk's statistics). */
export function dailySheetPath(op: string, day: string): string {
  return `/staff/vc/${encodeURIComponent(op)}/day/${encodeURIComponent(day)}`;
}

/** A VC day as the API takes it (YYYY-MM-DD, a real date), or null. */
export function parseDay(value: string | undefined): string | null {
  if (!value || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return null;
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value ? value : null;
}

/** Largest first, equal counts in `order` (the vocabulary's order, or the district's name). */
function breakdown(counts: Record<string, number>, label: (key: string) => string, order: (key: string) => number | string): SheetBreakdown[] {
  const rank = (k: string) => order(k);
  return Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort(([ka, a], [kb, b]) => b - a || (rank(ka) < rank(kb) ? -1 : rank(ka) > rank(kb) ? 1 : 0))
    .map(([key, count]) => ({ label: label(key), count }));
}

/**
 * The sheet of one day from `GET …/statistics?from=day&to=day` (its breakdowns are that day's
 * needs received); null when the answer has no such day (before the opening, or in the future).
 */
export function dailySheet(stats: Statistics, day: string, districtNames: ReadonlyMap<string, string>): DailySheet | null {
  const d = stats.days.find((x) => x.vc_day === day);
  if (!d) return null;
  const workOrder = vocabCodes('vc_work_types');
  const districtLabel = (id: string) => (id ? districtNames.get(id) ?? t('vc.sheet.unknownDistrict') : t('console.progress.noDistrict'));
  return {
    day,
    label: stats.label,
    volunteers: [
      { key: 'volunteers', label: 'vc.sheet.volunteers', value: d.volunteers },
      { key: 'individual', label: 'vc.sheet.individual', value: d.individual },
      { key: 'group', label: 'vc.sheet.group', value: d.group },
      { key: 'out_of_prefecture', label: 'vc.sheet.outside', value: d.out_of_prefecture },
      { key: 'cumulative_volunteers', label: 'vc.sheet.cumulative', value: d.cumulative_volunteers },
      { key: 'activities', label: 'vc.sheet.activities', value: d.activities },
    ],
    needs: [
      { key: 'needs_received', label: 'vc.sheet.received', value: d.needs_received },
      { key: 'needs_surveyed', label: 'vc.sheet.surveyed', value: d.needs_surveyed },
      { key: 'needs_closed', label: 'vc.sheet.closed', value: d.needs_closed },
      { key: 'needs_open', label: 'vc.sheet.open', value: d.needs_open },
    ],
    byWorkType: breakdown(stats.by_work_type, (code) => vocabLabel('vc_work_types', code), (code) => workOrder.indexOf(code)),
    // Districts by name (their codes sort as the council numbers them); "no district" last.
    byDistrict: breakdown(stats.by_district, districtLabel, (id) => (id ? districtNames.get(id) ?? '\uffff' : '\uffff\uffff')),
  };
}
