// The filters above the map: district and status (drawn by the map), support reason and hazard (asked of the server).
import { t } from '../../i18n';
import { h } from '../../ui/dom';
import { keepingFocus, present } from './dom';
import type { LiveActions, LiveState } from './state';
import { statusesFor, statusLabel, type MapStatus } from './status';
import { vocabOptions } from '../../vocab';

function select(name: string, label: string, value: string, options: Array<[string, string]>, onChange: (v: string) => void): HTMLElement {
  const id = `console-filter-${name}`;
  const sel = h('select', { id, name }, h('option', { value: '' }, t('common.all')),
    ...options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
  sel.addEventListener('change', () => onChange(sel.value));
  return h('div', { class: 'field' }, h('label', { for: id }, label), sel);
}

export function renderFilters(filtersEl: HTMLElement, state: LiveState, actions: LiveActions): void {
  const districts = (state.summary?.districts ?? []).filter((d) => d.district_id) as Array<{ district_id: string; name: string }>;
  keepingFocus(filtersEl, () => filtersEl.replaceChildren(...present(
    select('district', t('common.district'), state.filters.districtId ?? '', districts.map((d) => [d.district_id, d.name]), (v) => actions.setFilter('districtId', v || null)),
    select('status', t('common.status'), state.filters.status, statusesFor(state.summary?.operation.kind).map((s) => [s, statusLabel(s)]), (v) => actions.setFilter('status', v as MapStatus | '')),
    select('reason', t('console.filter.reason'), state.filters.reason, vocabOptions('support_reasons'), (v) => actions.setFilter('reason', v)),
    select('hazard', t('console.filter.hazard'), state.filters.hazard, vocabOptions('hazard_zone_kinds'), (v) => actions.setFilter('hazard', v)),
    state.matchIds !== null ? h('p', { class: 'filter-note', 'data-match-count': state.matchIds.size }, t('console.filter.matches', { count: state.matchIds.size })) : null,
  )));
}
