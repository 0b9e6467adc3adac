// The side of the console: the tabs and the open tab's panel.
import { t } from '../../i18n';
import { h } from '../../ui/dom';
import { keepingFocus } from './dom';
import { escalationPanel } from './escalations-panel';
import { TAB_KEYS } from './labels';
import { progressPanel } from './progress-panel';
import { shelterPanel } from './shelters-panel';
import { openEscalations, type LiveActions, type LiveState, type Tab } from './state';
import { timelinePanel } from './timeline-panel';

function renderTabs(state: LiveState, actions: LiveActions): HTMLElement {
  const list = h('div', { class: 'console-tabs', role: 'tablist', 'aria-label': t('console.tab.label') });
  for (const k of Object.keys(TAB_KEYS) as Tab[]) {
    const open = k === 'escalations' ? openEscalations(state) : 0;
    const b = h('button', { type: 'button', role: 'tab', id: `console-tab-${k}`, 'aria-selected': k === state.tab ? 'true' : 'false', 'aria-controls': 'console-tabpanel', 'data-tab': k },
      t(TAB_KEYS[k]), open ? ` (${open})` : '');
    b.addEventListener('click', () => actions.selectTab(k));
    list.append(b);
  }
  return list;
}

export function renderSide(sideEl: HTMLElement, state: LiveState, actions: LiveActions): void {
  const panel = h('div', { id: 'console-tabpanel', role: 'tabpanel', 'aria-labelledby': `console-tab-${state.tab}`, class: 'console-panel' });
  if (state.actionError) panel.append(h('p', { role: 'alert', class: 'error' }, state.actionError));
  if (state.tab === 'progress') panel.append(...progressPanel(state));
  else if (state.tab === 'escalations') panel.append(...escalationPanel(state, actions));
  else if (state.tab === 'timeline') panel.append(...timelinePanel(state, actions));
  else panel.append(...shelterPanel(state));
  keepingFocus(sideEl, () => sideEl.replaceChildren(renderTabs(state, actions), panel));
}
