import { t, type MessageKey } from '../i18n';
import type { Page, PageFactory } from '../router';
import { h } from '../ui/dom';
import { ACTION_LABEL, auditQuery, EMPTY_FILTERS, MODE_LABEL, OBJECT_LABEL, VIA_LABEL, type AuditActor, type AuditEntry, type AuditFilters, type AuditPage } from './audit-model';
import { formatTime } from './operations-page';
import { errorBox, staffGate } from './shell';

function label(map: Record<string, MessageKey>, code: string | null): string {
  if (!code) return '—';
  const key = map[code];
  return key ? t(key) : code;
}

/** `/staff/audit`: who read or changed what, when, under which mode; newest first, paged. */
export const auditPage: PageFactory = (root, ctx) => {
  const filters: AuditFilters = { ...EMPTY_FILTERS };
  let actors: AuditActor[] = [];
  let entries: AuditEntry[] = [];
  let next: number | null = null;
  // Cursors of the pages before this one, to go back.
  const history: (number | null)[] = [];
  let cursor: number | null = null;
  let error: unknown = null;
  let loading = true;
  // Bumped on every answer, so a test (or a screen reader's live region) can tell a new page from the old.
  let generation = 0;

  const gate = staffGate(root, ctx, '/staff/audit', 'staff.audit.title', () => void start());

  async function start(): Promise<void> {
    try {
      actors = await ctx.api.get<AuditActor[]>('/api/staff/audit/actors');
    } catch (err) {
      error = err;
    }
    await load(null);
  }

  async function load(before: number | null): Promise<void> {
    loading = true;
    render();
    try {
      const page = await ctx.api.get<AuditPage>(auditQuery(filters, before));
      entries = page.items;
      next = page.next_before_id;
      generation += 1;
      cursor = before;
      error = null;
    } catch (err) {
      error = err;
    }
    loading = false;
    render();
  }

  function selectField(id: string, labelKey: MessageKey, options: [string, string][], value: string, onChange: (v: string) => void): HTMLElement {
    const sel = h('select', { id }, h('option', { value: '' }, t('common.all')), ...options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
    sel.addEventListener('change', () => onChange(sel.value));
    return h('div', { class: 'field' }, h('label', { for: id }, t(labelKey)), sel);
  }

  function dateField(id: string, labelKey: MessageKey, value: string, onChange: (v: string) => void): HTMLElement {
    const input = h('input', { type: 'date', id, value });
    input.addEventListener('change', () => onChange(input.value));
    return h('div', { class: 'field' }, h('label', { for: id }, t(labelKey)), input);
  }

  function filterForm(): HTMLElement {
    const objectId = h('input', { type: 'text', id: 'audit-object', value: filters.objectId });
    objectId.addEventListener('input', () => (filters.objectId = objectId.value));
    const form = h(
      'form',
      { class: 'staff-form', role: 'search', 'aria-label': t('staff.audit.filters') },
      h(
        'div',
        { class: 'staff-row' },
        selectField('audit-actor', 'staff.audit.actor', actors.map((a) => [a.user_id, `${a.display_name ?? a.login ?? a.user_id}（${a.login ?? ''}）`]), filters.actorUserId, (v) => (filters.actorUserId = v)),
        selectField('audit-action', 'staff.audit.action', Object.entries(ACTION_LABEL).map(([code, key]) => [code, t(key)]), filters.action, (v) => (filters.action = v)),
        selectField('audit-type', 'staff.audit.objectType', Object.entries(OBJECT_LABEL).map(([code, key]) => [code, t(key)]), filters.objectType, (v) => (filters.objectType = v)),
        selectField('audit-mode', 'staff.audit.mode', Object.entries(MODE_LABEL).map(([code, key]) => [code, t(key)]), filters.mode, (v) => (filters.mode = v)),
      ),
      h(
        'div',
        { class: 'staff-row' },
        dateField('audit-since', 'staff.audit.since', filters.since, (v) => (filters.since = v)),
        dateField('audit-until', 'staff.audit.until', filters.until, (v) => (filters.until = v)),
        h('div', { class: 'field' }, h('label', { for: 'audit-object' }, t('staff.audit.objectId')), objectId),
      ),
      h('button', { type: 'submit', class: 'primary' }, t('staff.audit.search')),
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      history.length = 0;
      void load(null);
    });
    return form;
  }

  function detailsText(e: AuditEntry): string {
    const parts: string[] = [];
    const d = e.details ?? {};
    if (typeof d['via'] === 'string') parts.push(t('staff.audit.via', { via: label(VIA_LABEL, d['via']) }));
    if (typeof d['count'] === 'number') parts.push(t('staff.audit.count', { count: d['count'] }));
    else if (e.object_ids.length) parts.push(t('staff.audit.count', { count: e.object_ids.length }));
    if (typeof d['reason'] === 'string') parts.push(t('staff.reasonIs', { reason: d['reason'] }));
    if (typeof d['filename'] === 'string') parts.push(d['filename']);
    return parts.join(' ・ ');
  }

  function table(): HTMLElement {
    if (entries.length === 0) return h('p', { 'data-audit-empty': 'true' }, t('staff.audit.none'));
    return h(
      'div',
      { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': t('staff.audit.title') },
      h(
        'table',
        { class: 'staff-table', 'data-audit-table': 'true', 'data-generation': String(generation) },
        h('caption', {}, t('staff.newestFirst')),
        h('thead', {}, h('tr', {}, ...(['staff.audit.colAt', 'staff.audit.actor', 'staff.audit.action', 'staff.audit.colObject', 'staff.audit.mode', 'staff.audit.colDetails'] as const).map((k) => h('th', { scope: 'col' }, t(k))))),
        h(
          'tbody',
          {},
          ...entries.map((e) =>
            h(
              'tr',
              { 'data-action': e.action, 'data-id': String(e.id) },
              h('td', {}, formatTime(e.at)),
              h('td', {}, e.actor_login ?? t('staff.audit.system')),
              h('th', { scope: 'row' }, label(ACTION_LABEL, e.action)),
              h('td', {}, label(OBJECT_LABEL, e.object_type)),
              h('td', {}, e.mode === 'drill' ? h('span', { class: 'drill-tag' }, t('staff.mode.drill')) : label(MODE_LABEL, e.mode)),
              h('td', {}, detailsText(e)),
            ),
          ),
        ),
      ),
    );
  }

  function pager(): HTMLElement {
    const newer = h('button', { type: 'button', class: 'secondary', disabled: history.length === 0 || loading, 'data-page': 'newer' }, t('staff.audit.newer'));
    newer.addEventListener('click', () => void load(history.pop() ?? null));
    const older = h('button', { type: 'button', class: 'secondary', disabled: next === null || loading, 'data-page': 'older' }, t('staff.audit.older'));
    older.addEventListener('click', () => {
      history.push(cursor);
      void load(next);
    });
    return h('nav', { class: 'pager', 'aria-label': t('staff.audit.paging') }, newer, h('span', {}, t('staff.audit.pageNo', { page: history.length + 1 })), older);
  }

  function render(): void {
    gate.render(() => [
      h('p', {}, t('staff.audit.lead')),
      filterForm(),
      error ? errorBox(error) : null,
      loading ? h('p', { role: 'status' }, t('home.loading')) : null,
      table(),
      pager(),
    ]);
  }

  render();
  return { render, dispose: () => gate.dispose() } satisfies Page;
};
