// The shelters tab: open ones first, with occupancy against capacity.
import { t } from '../../i18n';
import { h } from '../../ui/dom';
import type { LiveState } from './state';

export function shelterPanel(state: LiveState): Node[] {
  if (state.shelters.length === 0) return [h('p', {}, t('console.shelter.none'))];
  const sorted = [...state.shelters].sort((a, b) => Number(b.is_open) - Number(a.is_open) || a.name.localeCompare(b.name, 'ja'));
  return [h('table', { class: 'console-table' },
    h('caption', {}, t('console.shelter.caption')),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('common.shelter')), h('th', { scope: 'col' }, t('common.status')), h('th', { scope: 'col' }, t('shelter.occupancyOfCapacity')))),
    h('tbody', {}, ...sorted.map((s) => h('tr', { 'data-shelter': s.id },
      h('th', { scope: 'row' }, s.name),
      h('td', {}, s.is_open ? t('shelter.open') : t('shelter.closed')),
      h('td', {}, s.capacity !== null ? `${s.occupancy} / ${s.capacity}` : String(s.occupancy))))))];
}
