import { t } from '../i18n';
import { needStyle } from '../map/vc-needs-model';
import { vocabCodes, vocabLabel } from '../vocab';
import { h } from './dom';

// The needs map's companions in the page (console and desk): its legend and what a clicked need shows.

/** The legend: each state with its marker (size and colour), in the board's order. */
export function needsLegend(): HTMLElement {
  return h('section', { class: 'vc-map-legend', 'aria-labelledby': 'vc-map-legend-title' },
    h('h2', { id: 'vc-map-legend-title' }, t('map.legend')),
    h('ul', { class: 'legend-list' }, ...vocabCodes('vc_need_states').map((s) => {
      const { color, radius } = needStyle(s);
      const size = `${radius * 2}px`;
      return h('li', { 'data-legend': s },
        h('span', { class: 'vc-map-marker', 'aria-hidden': 'true', style: `background:${color};width:${size};height:${size}` }),
        h('span', {}, vocabLabel('vc_need_states', s)));
    })),
    h('p', { class: 'hint' }, t('vc.map.centreHint')));
}

/** What a clicked need shows: its state, people and work, never a name or an address (those are on the board). */
export function needSummary(props: Readonly<Record<string, unknown>>): HTMLElement {
  const list = (v: unknown) => (typeof v === 'string' && v ? v.split(',') : []);
  const work = list(props['work_types']).map((w) => vocabLabel('vc_work_types', w)).join('、');
  const flags = list(props['flags']).map((f) => vocabLabel('vc_need_flags', f)).join('・');
  return h('div', { class: 'vc-map-detail', role: 'status', 'data-need-detail': String(props['id'] ?? '') },
    h('p', {}, h('strong', {}, vocabLabel('vc_need_states', String(props['state'] ?? ''))),
      ` ・ ${t('vc.need.people', { count: Number(props['people'] ?? 0) })}`),
    work ? h('p', {}, work) : null,
    flags ? h('p', {}, flags) : null,
    props['approximate'] ? h('p', {}, t('vc.need.approx')) : null);
}
