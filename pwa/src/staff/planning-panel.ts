import * as Plot from '@observablehq/plot';
import { plot } from '../ui/plot';
import { t } from '../i18n';
import type { AppContext } from '../router';
import { h } from '../ui/dom';
import { vocabOptions } from '../vocab';
import { errorBox } from './shell';
import { chartPoints, MAX_ADDED, planRows, planTime, type Plan, type PlanFigures, type PlanRow } from './planning-model';

/** The 100 % times per district as SVG bars (Observable Plot, as the drill report), today and with the added watchers. */
function chart(rows: PlanRow[], withAdded: boolean): Element {
  const labels = { today: t('staff.plan.seriesToday'), added: t('staff.plan.seriesAdded') };
  const points = chartPoints(rows, labels, withAdded);
  return plot({
    width: 720,
    height: Math.max(120, 28 * points.length + 60),
    marginLeft: 140,
    marginRight: 16,
    x: { label: t('staff.plan.axisMinutes'), grid: true },
    y: { axis: null },
    fy: { label: null, axis: 'left' },
    color: { legend: true, type: 'categorical', domain: withAdded ? [labels.today, labels.added] : [labels.today] },
    marks: [
      Plot.barX(points, { fy: 'district', y: 'series', x: 'minutes', fill: 'series', fillOpacity: (d: { never: boolean }) => (d.never ? 0.3 : 1) }),
      Plot.text(
        points.filter((p) => p.never),
        { fy: 'district', y: 'series', x: 'minutes', text: () => t('staff.plan.never'), textAnchor: 'end', dx: -4 },
      ),
      Plot.ruleX([0]),
    ],
  }, t('staff.plan.chartLabel'));
}

function totalsLine(f: PlanFigures): string {
  const never = t('staff.plan.never');
  return t('staff.plan.totals', {
    households: f.households,
    first: planTime(f.first_report_s, never),
    half: planTime(f.confirmed_50_s, never),
    full: planTime(f.confirmed_100_s, never),
    unwatched: f.unwatched,
  });
}

/**
 * The planning tool on the coverage screen: "if a quake hit now", per district, with today's watch
 * network and with N added watchers (GET /api/drills/planning). Keeps its own element and state so
 * the page can re-render around it.
 */
export function planningPanel(ctx: AppContext, order: () => string[]): { el: HTMLElement; load(): Promise<void> } {
  const el = h('section', { 'aria-labelledby': 'plan-title', 'data-planning': 'true' });
  let added = 5;
  let hazard = 'earthquake';
  let plan: Plan | null = null;
  let error: unknown = null;
  let loading = false;

  async function load(): Promise<void> {
    loading = true;
    render();
    try {
      plan = await ctx.api.get<Plan>(`/api/drills/planning/?added=${added}&hazard=${encodeURIComponent(hazard)}`);
      error = null;
    } catch (err) {
      error = err;
    }
    loading = false;
    render();
  }

  function table(p: Plan, rows: PlanRow[]): HTMLElement {
    const never = t('staff.plan.never');
    const withAdded = p.added_placed > 0;
    const cols = [
      t('common.district'),
      t('staff.watch.colHouseholds'),
      t('staff.plan.colWatchers'),
      t('staff.plan.colUnwatched'),
      t('staff.report.firstReport'),
      t('staff.plan.col50'),
      t('staff.plan.col100'),
      ...(withAdded ? [t('staff.plan.colAdded'), t('staff.plan.col100Added')] : []),
    ];
    return h(
      'div',
      { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': t('staff.plan.title') },
      h(
        'table',
        { class: 'staff-table', 'data-plan-table': 'true' },
        h('caption', {}, t('staff.plan.caption')),
        h('thead', {}, h('tr', {}, ...cols.map((c) => h('th', { scope: 'col' }, c)))),
        h(
          'tbody',
          {},
          ...rows.map((r) =>
            h(
              'tr',
              { 'data-plan-district': r.districtId },
              h('th', { scope: 'row' }, r.name),
              h('td', { class: 'num' }, String(r.today.households)),
              h('td', { class: 'num' }, String(r.today.watchers)),
              h('td', { class: 'num' }, String(r.today.unwatched)),
              h('td', { class: 'num' }, planTime(r.today.first_report_s, never)),
              h('td', { class: 'num' }, planTime(r.today.confirmed_50_s, never)),
              h('td', { class: 'num', 'data-plan-full': 'today' }, planTime(r.today.confirmed_100_s, never)),
              ...(withAdded
                ? [
                    h('td', { class: 'num' }, String(r.addedWatchers)),
                    h('td', { class: 'num', 'data-plan-full': 'added' }, planTime(r.added.confirmed_100_s, never), r.savedMinutes ? h('div', { class: 'hint' }, t('staff.plan.saved', { minutes: r.savedMinutes })) : null, r.nowReachable ? h('div', { class: 'hint' }, t('staff.plan.nowReachable')) : null, r.added.unwatched > 0 && r.added.unwatched < r.today.unwatched ? h('div', { class: 'hint' }, t('staff.plan.unwatchedAfter', { n: r.added.unwatched })) : null),
                  ]
                : []),
            ),
          ),
        ),
      ),
    );
  }

  function render(): void {
    const addedInput = h('input', { type: 'number', id: 'plan-added', min: 0, max: MAX_ADDED, step: 1, value: String(added), inputmode: 'numeric' });
    addedInput.addEventListener('change', () => {
      const n = Math.round(Number(addedInput.value));
      added = Number.isFinite(n) ? Math.min(MAX_ADDED, Math.max(0, n)) : 0;
    });
    const hazardSel = h('select', { id: 'plan-hazard' }, ...vocabOptions('drill_hazards').map(([v, label]) => h('option', { value: v, selected: v === hazard }, label)));
    hazardSel.addEventListener('change', () => (hazard = hazardSel.value));
    const run = h('button', { type: 'button', class: 'primary', 'data-action': 'plan' }, t('staff.plan.run'));
    run.addEventListener('click', () => void load());
    const rows = plan ? planRows(plan, order(), true) : [];
    const parts: (HTMLElement | null)[] = [
      h('h2', { id: 'plan-title' }, t('staff.plan.title')),
      h('p', { class: 'hint' }, t('staff.plan.lead')),
      h(
        'div',
        { class: 'actions' },
        h('div', { class: 'field' }, h('label', { for: 'plan-hazard' }, t('staff.plan.hazard')), hazardSel),
        h('div', { class: 'field' }, h('label', { for: 'plan-added' }, t('staff.plan.added')), addedInput),
        run,
      ),
      loading ? h('p', { role: 'status' }, t('staff.plan.running')) : null,
      error ? errorBox(error) : null,
      plan
        ? h(
            'div',
            { 'data-plan-result': 'true' },
            h('p', { 'data-plan-totals': 'today' }, h('strong', {}, t('staff.plan.seriesToday')), ' ', totalsLine(plan.totals_today)),
            plan.added_placed > 0 ? h('p', { 'data-plan-totals': 'added' }, h('strong', {}, t('staff.plan.addedPlaced', { placed: plan.added_placed, requested: plan.added_requested })), ' ', totalsLine(plan.totals_with_added)) : plan.added_requested > 0 ? h('p', {}, t('staff.plan.noGain')) : null,
            h('p', { class: 'hint' }, t('staff.plan.model', { kmh: plan.walk_kmh, detour: plan.detour, slow: plan.hazard_slowdown, delay: Math.round(plan.start_delay_s / 60), dwell: Math.round(plan.dwell_s / 60), capacity: plan.new_watcher_capacity })),
            rows.length ? h('figure', { class: 'plan-chart' }, chart(rows, plan.added_placed > 0)) : null,
            rows.length ? table(plan, rows) : h('p', {}, t('staff.plan.empty')),
          )
        : null,
    ];
    el.replaceChildren(...parts.filter((x): x is HTMLElement => x !== null));
  }

  render();
  return { el, load };
}
