// The timeline tab: what happened in the operation, newest first, paging back with 「さらに表示」.
import { t } from '../../i18n';
import { h } from '../../ui/dom';
import { timeOf } from '../common';
import { KIND_KEYS, outcomeText } from './labels';
import type { LiveActions, LiveState } from './state';

export function timelinePanel(state: LiveState, actions: LiveActions): Node[] {
  if (state.timeline.length === 0) return [h('p', {}, t('common.noRecords'))];
  return [h('ol', { class: 'timeline', 'data-timeline': '' }, ...state.timeline.map((i) => {
    const what = i.kind === 'target.status' || i.kind === 'visit.recorded' ? String(i.status ?? i.outcome ?? '') : String(i.outcome ?? '');
    const show = i.household_id ? h('button', { type: 'button', id: `tl-show-${i.id}`, class: 'link', 'data-show-household': i.household_id }, t('console.showHousehold')) : null;
    show?.addEventListener('click', () => actions.openHousehold(i.household_id!));
    return h('li', { 'data-event': i.id, 'data-kind': i.kind },
      h('time', { datetime: i.at }, timeOf(i.at)), ' ',
      h('span', {}, t(KIND_KEYS[i.kind] ?? 'console.event.other')),
      what && outcomeText(what) ? h('span', {}, `：${outcomeText(what)}`) : null,
      typeof i.assigned_to_name === 'string' ? h('span', {}, `：${i.assigned_to_name}`) : null,
      show ? ' ' : null, show);
  })), olderButton(state, actions)].filter((n): n is HTMLElement => n !== null);
}

function olderButton(state: LiveState, actions: LiveActions): HTMLElement | null {
  if (state.olderBefore === null) return null;
  const b = h('button', { type: 'button', id: 'console-timeline-older', class: 'secondary', 'data-older': '' }, t('console.timeline.older'));
  b.addEventListener('click', () => actions.loadOlder());
  return b;
}
