// What the registry pages share: the tabs between them, the table and the load-once list page.
import { t, type MessageKey } from '../../i18n';
import type { AppContext, Page, PageFactory } from '../../router';
import { appLink, h } from '../../ui/dom';
import type { PolygonPickerLabels } from '../polygon-picker';
import { errorBox, staffGate } from '../shell';
import { vocabLabel } from '../../vocab';

/** The area of a district or hazard zone (not an operation's scope): the picker's wording for it. */
export const AREA_LABELS: PolygonPickerLabels = { open: 'staff.reg.drawArea', hint: 'staff.reg.drawAreaHint', failed: 'staff.reg.drawAreaFailed' };

const TABS: [string, MessageKey][] = [
  ['/staff/registry', 'staff.reg.tab.districts'],
  ['/staff/registry/households', 'staff.reg.tab.households'],
  ['/staff/registry/watchers', 'staff.reg.tab.watchers'],
  ['/staff/registry/shelters', 'common.shelters'],
  ['/staff/registry/hazard-zones', 'staff.reg.tab.hazardZones'],
];

export function tabs(ctx: AppContext, current: string): HTMLElement {
  return h(
    'nav',
    { class: 'reg-tabs', 'aria-label': t('staff.reg.tabs') },
    h('ul', { class: 'actions' }, ...TABS.map(([path, key]) => h('li', {}, appLink(ctx, path, t(key), { class: 'button secondary', ...(path === current ? { 'aria-current': 'page' } : {}) })))),
  );
}

export function levelLabel(level: string): string {
  return vocabLabel('district_levels', level);
}

export function reasonsText(codes: readonly string[] | null | undefined): string {
  if (!codes) return t('staff.reg.notDisclosed');
  if (codes.length === 0) return '—';
  return codes.map((c) => vocabLabel('support_reasons', c)).join('・');
}

export function table(captionKey: MessageKey, heads: MessageKey[], rows: HTMLElement[], attrs: Record<string, string> = {}): HTMLElement {
  return h(
    'div',
    { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': t(captionKey) },
    h('table', { class: 'staff-table', ...attrs }, h('caption', {}, t(captionKey)), h('thead', {}, h('tr', {}, ...heads.map((k) => h('th', { scope: 'col' }, t(k))))), h('tbody', {}, ...rows)),
  );
}

/** A small list page: load once, render rows; `extra` adds forms under the table. */
export function simplePage<T>(
  path: string,
  load: (ctx: AppContext) => Promise<T>,
  body: (ctx: AppContext, data: T, reload: () => Promise<void>, rerender: () => void) => (Node | null)[],
): PageFactory {
  return (root, ctx) => {
    let data: T | null = null;
    let error: unknown = null;
    const gate = staffGate(root, ctx, '/staff/registry', 'staff.reg.title', () => void reload());
    async function reload(): Promise<void> {
      try {
        data = await load(ctx);
        error = null;
      } catch (err) {
        error = err;
      }
      render();
    }
    function render(): void {
      gate.render(() => [tabs(ctx, path), error ? errorBox(error) : null, data === null ? (error ? null : h('p', { role: 'status' }, t('home.loading'))) : null, ...(data !== null ? body(ctx, data, reload, render) : [])]);
    }
    render();
    return { render, dispose: () => gate.dispose() } satisfies Page;
  };
}
