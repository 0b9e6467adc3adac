import * as Plot from '@observablehq/plot';
import { plot } from '../../ui/plot';
import { t, type MessageKey } from '../../i18n';
import type { Page, PageFactory } from '../../router';
import { appLink, h } from '../../ui/dom';
import { errorBox, staffGate } from '../shell';
import { centreNav } from './centre-links';
import {
  comparable,
  compareRows,
  type Comparison,
  curvePoints,
  drillTime,
  minutes,
  parseDrillTime,
  percent,
  type Expectation,
  type Report,
  type Run,
  type TimelineItem,
  vcCompareRows,
  vcRows,
} from './drills-model';

const TYPE_LABELS: Record<TimelineItem['type'], MessageKey> = {
  inject: 'staff.report.type.inject',
  visit: 'staff.report.type.visit',
  escalation: 'staff.report.type.escalation',
  acknowledged: 'staff.report.type.acknowledged',
};

/** The confirmation curves as SVG (Observable Plot), for the screen and for paper alike. */
function curvesChart(rows: ReturnType<typeof curvePoints>): Element {
  return plot({
    width: 720,
    height: 320,
    marginLeft: 48,
    x: { label: t('staff.report.colAt'), grid: true },
    y: { label: '%', domain: [0, 100], grid: true },
    color: { legend: true, type: 'categorical' },
    marks: [Plot.line(rows, { x: 'minute', y: 'percent', stroke: 'series', curve: 'step-after' }), Plot.ruleY([0])],
  }, t('staff.report.curvesLabel'));
}

function summary(r: Report): HTMLElement {
  const rows: [MessageKey, string][] = [
    ['staff.ops.colTargets', String(r.totals.targets)],
    ['staff.report.confirmed', `${r.totals.confirmed}（${percent(r.totals.confirmed, r.totals.targets)} %）`],
    ['staff.report.firstReport', drillTime(r.totals.first_report_s)],
    ['staff.report.completion', drillTime(r.totals.completion_s)],
    ['staff.report.escalations', `${r.escalations.acknowledged} / ${r.escalations.total}`],
    ['staff.report.ackMedian', minutes(r.escalations.acknowledge_median_s)],
    ['staff.report.ackMax', minutes(r.escalations.acknowledge_max_s)],
    ['staff.report.injects', `${r.injects.fired} / ${r.injects.total}`],
    ['staff.report.bots', String(r.totals.visits_by_bots)],
  ];
  return h('dl', { class: 'report-summary' }, ...rows.flatMap(([k, v]) => [h('dt', {}, t(k)), h('dd', {}, v)]));
}

/** The volunteer centre's day in figures (a VC drill only). */
function vcSummary(r: Report): HTMLElement[] {
  if (!r.vc) return [];
  return [
    h('h3', {}, t('vc.title')),
    h('dl', { class: 'report-summary' }, ...vcRows(r.vc).flatMap(([k, v]) => [h('dt', {}, t(k)), h('dd', {}, v)])),
  ];
}

function evidenceText(e: Expectation): string {
  return e.evidence.map((x) => Object.entries(x).filter(([k]) => k !== 'unconfirmed')
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.length : String(v)}`).join(', ')).join(' / ');
}

/**
 * `/staff/drills/:id`: the after-action report (振り返り) of one drill, printable on A4, with
 * evaluator marks, archive, delete, and the choice of another run of the same scenario to
 * compare with (`/staff/drills/:a/compare/:b`).
 */
export const drillReportPage: PageFactory = (root, ctx, params = {}) => {
  const id = params['id'] ?? '';
  let report: Report | null = null;
  let run: Run | null = null;
  let others: Run[] = [];
  let error: unknown = null;

  let role = '';
  const gate = staffGate(root, ctx, '/staff/drills', 'staff.report.title', (user) => {
    role = user.role;
    void load();
  });

  async function load(): Promise<void> {
    try {
      const [r, all] = await Promise.all([ctx.api.get<Report>(`/api/drills/runs/${id}/report`), ctx.api.get<Run[]>('/api/drills/runs')]);
      report = r;
      run = all.find((x) => x.id === id) ?? null;
      others = run ? comparable(run, all) : [];
      error = null;
    } catch (err) {
      error = err;
    }
    render();
  }

  async function post(path: string, body?: unknown): Promise<void> {
    try {
      await ctx.api.post(path, body);
    } catch (err) {
      error = err;
    }
    await load();
  }

  function markButtons(e: Expectation): HTMLElement | null {
    if (e.how !== 'evaluator' || run?.archived_at) return null;
    const comment = h('input', { type: 'text', 'aria-label': `${t('staff.report.comment')} ${e.text.ja}`, maxlength: 2000 });
    const mark = (passed: boolean): HTMLButtonElement => {
      const b = h('button', { type: 'button', class: 'secondary' }, t(passed ? 'staff.report.pass' : 'staff.report.fail'));
      b.addEventListener('click', () => void post(`/api/drills/runs/${id}/marks/${e.index}`, { passed, comment: comment.value || null }));
      return b;
    };
    return h('div', { class: 'row-actions no-print' }, comment, mark(true), mark(false));
  }

  function expectations(r: Report): HTMLElement {
    return h('table', { class: 'data report-table' },
      h('caption', {}, t('staff.report.expectations')),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('staff.report.colExpectation')),
        h('th', { scope: 'col' }, t('staff.report.colMark')), h('th', { scope: 'col' }, t('staff.report.colEvidence')))),
      h('tbody', {}, ...r.expectations.map((e) => h('tr', { 'data-expectation': String(e.index) },
        h('td', {}, e.text.ja),
        h('td', { class: 'mark' }, e.mark),
        h('td', {}, e.passed === null && e.how === 'evaluator' ? t('staff.report.evaluatorPending') : evidenceText(e), markButtons(e))))));
  }

  function districts(r: Report): HTMLElement {
    return h('table', { class: 'data report-table' },
      h('caption', {}, t('staff.report.districts')),
      h('thead', {}, h('tr', {}, ...(['common.district', 'staff.reg.colHouseholds', 'staff.report.confirmed',
        'staff.report.firstReport', 'staff.report.completion'] as MessageKey[]).map((k) => h('th', { scope: 'col' }, t(k))))),
      h('tbody', {}, ...r.districts.map((d) => h('tr', {},
        h('td', {}, d.name), h('td', {}, String(d.total)), h('td', {}, `${d.confirmed}（${percent(d.confirmed, d.total)} %）`),
        h('td', {}, drillTime(d.first_report_s)), h('td', {}, drillTime(d.completion_s))))));
  }

  function timeline(r: Report): HTMLElement {
    return h('table', { class: 'data report-table report-timeline' },
      h('caption', {}, t('staff.report.timeline')),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('staff.report.colAt')), h('th', { scope: 'col' }, t('staff.report.colWhat')),
        h('th', { scope: 'col' }, t('staff.audit.colDetails')))),
      h('tbody', {}, ...r.timeline.map((x) => h('tr', { 'data-type': x.type },
        h('td', {}, x.at ?? '—'),
        h('td', {}, t(TYPE_LABELS[x.type]) + (x.by === 'bot' ? t('staff.report.byBot') : '')),
        h('td', {}, [x.label, x.district, x.text].filter(Boolean).join(' / '))))));
  }

  function actions(r: Report): HTMLElement {
    const printBtn = h('button', { type: 'button', class: 'primary' }, t('staff.print.print'));
    printBtn.addEventListener('click', () => window.print());
    const ended = run && (run.status === 'stopped' || run.status === 'finished');
    const archive = h('button', { type: 'button', class: 'secondary', disabled: !ended || !!run?.archived_at }, t('staff.report.archive'));
    archive.addEventListener('click', () => void post(`/api/drills/runs/${id}/archive`));
    const del = h('button', { type: 'button', class: 'danger', disabled: !run?.archived_at }, t('staff.report.delete'));
    del.addEventListener('click', () => {
      if (!window.confirm(t('staff.report.deleteConfirm'))) return;
      void ctx.api.request('DELETE', `/api/drills/runs/${id}`).then(() => ctx.navigate('/staff/drills'), (err: unknown) => {
        error = err;
        render();
      });
    });
    const pick = h('select', { id: 'compare-with', 'aria-label': t('staff.report.compareWith') },
      ...others.map((o) => h('option', { value: o.id }, `${o.title}（${new Date(o.created_at).toLocaleDateString('ja-JP')}）`)));
    const compare = h('button', { type: 'button', class: 'secondary', disabled: !others.length }, t('staff.report.compare'));
    compare.addEventListener('click', () => ctx.navigate(`/staff/drills/${id}/compare/${pick.value}`));
    return h('div', { class: 'row-actions no-print' }, printBtn,
      h('a', { href: `/api/drills/runs/${r.run_id}/report.csv`, class: 'button secondary', download: '' }, t('staff.report.csv')),
      archive, del, others.length ? pick : null, compare,
      appLink(ctx, '/staff/drills', t('staff.report.back'), { class: 'button secondary' }));
  }

  function render(): void {
    gate.render(() => {
      if (error && !report) return [errorBox(error)];
      if (!report) return [h('p', { role: 'status' }, t('home.loading'))];
      const r = report;
      return [
        actions(r),
        run ? centreNav(ctx, run, role) : null,
        error ? errorBox(error) : null,
        h('div', { class: 'print-sheet drill-report', 'data-drill-report': r.run_id },
          h('p', { class: 'drill-banner' }, r.label),
          h('h2', {}, r.title.startsWith(r.label) ? r.title : r.label + r.title),
          run?.archived_at ? h('p', {}, t('staff.report.archived', { at: new Date(run.archived_at).toLocaleString('ja-JP') })) : null,
          h('h3', {}, t('staff.report.summary')), summary(r),
          ...vcSummary(r),
          expectations(r),
          h('figure', { class: 'report-chart' }, h('figcaption', {}, t('staff.report.curves')),
            curvesChart(curvePoints(r.districts, parseDrillTime(r.duration)))),
          districts(r),
          timeline(r)),
      ];
    });
  }

  render();
  return { render, dispose: () => gate.dispose() } satisfies Page;
};

/** `/staff/drills/:id/compare/:other`: two runs of a scenario side by side (this year's and last year's). */
export const drillComparePage: PageFactory = (root, ctx, params = {}) => {
  const ids = [params['id'] ?? '', params['other'] ?? ''];
  let reports: Report[] = [];
  let comparison: Comparison | null = null;
  let error: unknown = null;
  const gate = staffGate(root, ctx, '/staff/drills', 'staff.report.compareTitle', () => void load());

  async function load(): Promise<void> {
    try {
      [comparison, ...reports] = await Promise.all([
        ctx.api.get<Comparison>(`/api/drills/runs/${ids[0]}/compare/${ids[1]}`),
        ...ids.map((x) => ctx.api.get<Report>(`/api/drills/runs/${x}/report`)),
      ]);
    } catch (err) {
      error = err;
    }
    render();
  }

  /** The volunteer centres of the two runs, row by row; a run without a centre says so. */
  function vcPart(c: Comparison, headA: string, headB: string): (HTMLElement | null)[] {
    const vc = c.vc;
    if (!vc) return [];
    const none = t('staff.report.vcNone');
    const cell = (v: string | null): HTMLElement => h('td', v === null ? { 'data-vc-none': 'true' } : {}, v ?? none);
    const head = (): HTMLElement => h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('staff.report.figure')),
      h('th', { scope: 'col' }, headA), h('th', { scope: 'col' }, headB)));
    return [
      h('h3', {}, t('vc.title')),
      ...vc.missing.map((side) => h('p', { role: 'note', class: 'hint', 'data-vc-missing': side },
        t('staff.report.vcMissing', { run: t(side === 'a' ? 'staff.report.runAShort' : 'staff.report.runBShort') }))),
      h('table', { class: 'data report-table compare-table', 'data-compare-vc': 'true' },
        head(),
        h('tbody', {}, ...vcCompareRows(vc).map((row) => h('tr', { 'data-vc-row': row.key },
          h('th', { scope: 'row' }, t(row.key)), cell(row.a), cell(row.b))))),
      vc.expectations.length
        ? h('table', { class: 'data report-table compare-table', 'data-compare-vc-expectations': 'true' },
          h('caption', {}, t('staff.report.vcExpectations')),
          head(),
          h('tbody', {}, ...vc.expectations.map((e) => h('tr', {},
            h('th', { scope: 'row' }, e.text.ja), cell(e.a?.mark ?? null), cell(e.b?.mark ?? null)))))
        : null,
    ];
  }

  const FIGURES: Record<string, MessageKey> = {
    targets: 'staff.ops.colTargets', confirmed: 'staff.report.confirmed', firstReport: 'staff.report.firstReport',
    completion: 'staff.report.completion', escalations: 'staff.report.escalations', ackMedian: 'staff.report.ackMedian',
    expectations: 'staff.report.expectationsPassed',
  };

  function render(): void {
    gate.render(() => {
      if (error) return [errorBox(error)];
      const [a, b] = reports;
      const c = comparison;
      if (!a || !b || !c) return [h('p', { role: 'status' }, t('home.loading'))];
      const at = (r: Report): string => new Date(r.created_at).toLocaleDateString('ja-JP');
      const end = Math.max(parseDrillTime(a.duration), parseDrillTime(b.duration));
      const headA = t('staff.report.runA', { title: a.title, at: at(a) });
      const headB = t('staff.report.runB', { title: b.title, at: at(b) });
      const printBtn = h('button', { type: 'button', class: 'primary' }, t('staff.print.print'));
      printBtn.addEventListener('click', () => window.print());
      return [
        h('div', { class: 'row-actions no-print' }, printBtn, appLink(ctx, `/staff/drills/${a.run_id}`, t('staff.report.back'), { class: 'button secondary' })),
        h('div', { class: 'print-sheet drill-report' },
          h('p', { class: 'drill-banner' }, a.label),
          h('table', { class: 'data report-table compare-table', 'data-compare': 'true' },
            h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('staff.report.figure')),
              h('th', { scope: 'col' }, headA), h('th', { scope: 'col' }, headB))),
            h('tbody', {}, ...compareRows(a, b).map((row) => h('tr', {},
              h('th', { scope: 'row' }, t(FIGURES[row.key] ?? 'staff.report.figure')), h('td', {}, row.a), h('td', {}, row.b))))),
          ...vcPart(c, headA, headB),
          h('figure', { class: 'report-chart' }, h('figcaption', {}, t('staff.report.curves')),
            curvesChart([...curvePoints(a.districts, end, 'A '), ...curvePoints(b.districts, end, 'B ')]))),
      ];
    });
  }

  render();
  return { render, dispose: () => gate.dispose() } satisfies Page;
};
