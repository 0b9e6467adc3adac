// The progress tab: the confirmation chart over time and the per-district table, worst first.
import { t } from '../../i18n';
import { h } from '../../ui/dom';
import { timeOf } from '../common';
import { BAND_KEYS } from './labels';
import { chartGeometry, formatDuration, overall, percent, rate } from './progress';
import type { LiveState } from './state';
import { rateBand } from './status';

export function progressPanel(state: LiveState): Node[] {
  if (!state.summary) return [h('p', {}, t('home.loading'))];
  // Worst first: the districts that need attention are at the top of the wall display.
  const ordered = [...state.summary.districts].sort((a, b) =>
    b.overdue - a.overdue || (b.late ?? 0) - (a.late ?? 0) || (rate(a.confirmed, a.total) ?? 1) - (rate(b.confirmed, b.total) ?? 1) || a.name.localeCompare(b.name, 'ja'));
  const rows = ordered.map((d) => {
    const pct = percent(d.confirmed, d.total);
    const band = rateBand(rate(d.confirmed, d.total));
    return h('tr', { 'data-district': d.district_id ?? '' },
      h('th', { scope: 'row' }, d.name || t('console.progress.noDistrict')),
      h('td', { 'data-confirmed': d.confirmed, 'data-total': d.total }, `${d.confirmed} / ${d.total}`),
      h('td', {}, pct === null ? '—' : `${pct}%`, band !== null ? h('span', { class: 'visually-hidden' }, ` ${t(BAND_KEYS[band]!)}`) : null),
      h('td', {}, formatDuration(d.time_to_first_report_s) ?? t('console.progress.noReport')),
      h('td', { 'data-late': d.late ?? 0 }, String(d.late ?? 0)),
      h('td', { 'data-overdue': d.overdue }, String(d.overdue)),
      h('td', {}, String(d.need_help)),
    );
  });
  const table = h('table', { class: 'console-table', 'data-progress': '' },
    h('caption', {}, t('console.progress.caption')),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, t('common.district')),
      h('th', { scope: 'col' }, t('console.progress.confirmed')),
      h('th', { scope: 'col' }, t('console.progress.rate')),
      h('th', { scope: 'col' }, t('console.progress.firstReport')),
      h('th', { scope: 'col' }, t('console.progress.late')),
      h('th', { scope: 'col' }, t('console.overdue')),
      h('th', { scope: 'col' }, t('console.progress.needHelp')))),
    h('tbody', {}, ...rows),
  );
  return [chart(state), table];
}

function chart(state: LiveState): HTMLElement {
  const d = state.filters.districtId;
  const series = state.history ? (d ? state.history.districts[d] ?? state.history.times.map(() => 0) : state.history.total) : [];
  const total = d ? state.summary?.districts.find((x) => x.district_id === d)?.total ?? 0 : overall(state.summary?.districts ?? []).total;
  const g = chartGeometry(series, total, 360, 160, 28);
  const NS = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', `0 0 ${g.width} ${g.height}`);
  svg.setAttribute('class', 'console-chart');
  svg.setAttribute('role', 'img');
  const name = d ? state.summary?.districts.find((x) => x.district_id === d)?.name ?? '' : t('console.chart.all');
  const label = t('console.chart.label', { name, percent: g.last?.value ?? 0 });
  svg.setAttribute('aria-label', label);
  for (const line of g.grid) {
    const l = document.createElementNS(NS, 'line');
    l.setAttribute('x1', '28');
    l.setAttribute('x2', String(g.width - 28));
    l.setAttribute('y1', String(line.y));
    l.setAttribute('y2', String(line.y));
    l.setAttribute('stroke', '#8a8a8a');
    l.setAttribute('stroke-dasharray', '3 3');
    const txt = document.createElementNS(NS, 'text');
    txt.setAttribute('x', '2');
    txt.setAttribute('y', String(line.y + 4));
    txt.setAttribute('font-size', '11');
    txt.setAttribute('fill', '#4a4a4a');
    txt.textContent = `${line.label}%`;
    svg.append(l, txt);
  }
  if (g.points) {
    const pl = document.createElementNS(NS, 'polyline');
    pl.setAttribute('points', g.points);
    pl.setAttribute('fill', 'none');
    pl.setAttribute('stroke', '#0b5d56');
    pl.setAttribute('stroke-width', '3');
    svg.append(pl);
  }
  const first = state.history?.times[0];
  const last = state.history?.times[state.history.times.length - 1];
  return h('figure', { class: 'console-figure', 'data-chart': '' }, svg,
    h('figcaption', {}, label, first && last ? ` (${timeOf(first)}–${timeOf(last)})` : ''));
}
