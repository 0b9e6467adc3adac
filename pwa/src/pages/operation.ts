import { ApiError, NetworkError } from '../api/errors';
import {
  CALL_NOW,
  isDrill,
  KIND_LABELS,
  loadLocalStatus,
  loadMyHouseholds,
  OUTCOME_LABELS,
  OUTCOME_TONE,
  OUTCOMES,
  saveLocalStatus,
  saveMyHouseholds,
  type Household,
  type LocalStatus,
  type MyHouseholds,
} from '../field/model';
import { t } from '../i18n';
import { ensurePersistentStorage, requestBackgroundSync } from '../outbox/runtime';
import type { Page, PageFactory } from '../router';
import { h } from '../ui/dom';
import { problemText } from '../ui/problem-text';

type State =
  | { kind: 'loading' }
  | { kind: 'ready'; data: MyHouseholds; fromCache: boolean }
  | { kind: 'not-cached' }
  | { kind: 'error'; error: unknown };

const GATEWAY = new Set([502, 503, 504]);

function timeText(at: number): string {
  return new Date(at).toLocaleTimeString('ja-JP', { hour: '2-digit', minute: '2-digit' });
}

/** "My households" for one operation: walking order, outcome buttons, works offline. */
export const operationPage: PageFactory = (root, ctx, params = {}) => {
  const opId = params.id ?? '';
  const db = ctx.outbox?.db;
  let state: State = { kind: 'loading' };
  let local: Record<string, LocalStatus> = {};
  let openId: string | null = null;
  const notes = new Map<string, string>();
  let last: { householdId: string; outcome: string; at: number } | null = null;
  let recordError: unknown = null;
  let disposed = false;

  async function fromCache(): Promise<boolean> {
    const cached = db ? await loadMyHouseholds(db, opId) : null;
    if (disposed) return true;
    state = cached ? { kind: 'ready', data: cached.data, fromCache: true } : { kind: 'not-cached' };
    return !!cached;
  }

  async function load(): Promise<void> {
    if (db) local = await loadLocalStatus(db, opId);
    if (!navigator.onLine) {
      await fromCache();
    } else {
      try {
        const data = await ctx.api.get<MyHouseholds>(`/api/operations/${encodeURIComponent(opId)}/my-households`);
        if (disposed) return;
        state = { kind: 'ready', data, fromCache: false };
        if (db) await saveMyHouseholds(db, opId, data);
      } catch (err) {
        if (disposed) return;
        if (err instanceof ApiError && err.status === 401) {
          ctx.navigate('/login', { replace: true });
          return;
        }
        if (err instanceof NetworkError || (err instanceof ApiError && GATEWAY.has(err.status))) await fromCache();
        else state = { kind: 'error', error: err };
      }
    }
    if (!disposed) render();
  }

  async function record(hh: Household, outcome: string): Promise<void> {
    if (!ctx.outbox || !db || state.kind !== 'ready') return;
    recordError = null;
    const note = notes.get(hh.id) ?? '';
    try {
      const row = await ctx.outbox.enqueueVisit({ operation_id: state.data.operation.id, household_id: hh.id, outcome, note });
      notes.delete(hh.id);
      const status = { outcome, at: row.created_at };
      local[hh.id] = status;
      last = { householdId: hh.id, ...status };
      await saveLocalStatus(db, opId, hh.id, status);
    } catch (err) {
      recordError = err;
    }
    if (disposed) return;
    render();
    if (last && CALL_NOW.has(last.outcome)) root.querySelector<HTMLElement>('[data-call-now] a')?.focus();
    else root.querySelector<HTMLElement>(`[data-household-panel="${hh.id}"] [data-outcome="${outcome}"]`)?.focus();
    void ensurePersistentStorage();
    void requestBackgroundSync();
    if (navigator.onLine) void ctx.outbox.flush().catch(() => undefined);
  }

  const onOnline = () => {
    if (state.kind === 'not-cached' || (state.kind === 'ready' && state.fromCache)) void load();
  };
  window.addEventListener('online', onOnline);

  function statusBadge(hh: Household): HTMLElement {
    const mine = local[hh.id];
    const outcome = mine?.outcome ?? (hh.status !== 'unreached' ? hh.status : null);
    const label = outcome ? t(OUTCOME_LABELS[outcome] ?? 'op.status.unreached') : t('op.status.unreached');
    const tone = outcome ? (OUTCOME_TONE[outcome] ?? 'neutral') : 'none';
    return h('span', { class: `badge outcome-${tone}`, 'data-status': outcome ?? 'unreached' }, label);
  }

  function callBox(): HTMLElement {
    return h(
      'div',
      { class: 'call-now', role: 'alert', 'data-call-now': 'true' },
      h('p', {}, t('op.emergencyHint')),
      h('a', { class: 'call', href: 'tel:110' }, t('op.call110')),
      h('a', { class: 'call', href: 'tel:119' }, t('op.call119')),
    );
  }

  function panel(hh: Household, kind: keyof typeof OUTCOMES): HTMLElement {
    const noteId = `note-${hh.id}`;
    const note = h('textarea', { id: noteId, rows: 2, maxlength: 2000 });
    note.value = notes.get(hh.id) ?? '';
    note.addEventListener('input', () => notes.set(hh.id, note.value));
    const buttons = OUTCOMES[kind].map((outcome) => {
      const b = h(
        'button',
        { type: 'button', class: `outcome outcome-${OUTCOME_TONE[outcome] ?? 'neutral'}`, 'data-outcome': outcome },
        t(OUTCOME_LABELS[outcome]!),
      );
      b.addEventListener('click', () => void record(hh, outcome));
      return b;
    });
    const mine = last && last.householdId === hh.id ? last : null;
    return h(
      'div',
      { class: 'hh-panel', id: `panel-${hh.id}`, 'data-household-panel': hh.id },
      mine && CALL_NOW.has(mine.outcome) ? callBox() : null,
      mine
        ? h('p', { role: 'status', class: 'recorded' }, t('op.recorded', { outcome: t(OUTCOME_LABELS[mine.outcome]!), time: timeText(mine.at) }))
        : null,
      recordError && openId === hh.id ? h('div', { class: 'error', role: 'alert' }, h('p', {}, problemText(recordError))) : null,
      h('p', { class: 'hint' }, t('op.recordHint')),
      h('div', { class: 'outcomes' }, ...buttons),
      h('div', { class: 'field' }, h('label', { for: noteId }, t('op.note')), note),
    );
  }

  function householdItem(hh: Household, kind: keyof typeof OUTCOMES): HTMLElement {
    const open = openId === hh.id;
    const names = hh.people.map((p) => p.name).filter(Boolean).join('・');
    const toggle = h(
      'button',
      { type: 'button', class: 'hh-toggle', 'aria-expanded': open ? 'true' : 'false', 'aria-controls': `panel-${hh.id}`, 'data-household': hh.id },
      h('span', { class: 'hh-order' }, String(hh.order)),
      h('span', { class: 'hh-text' }, h('span', { class: 'hh-name' }, names || hh.address), names ? h('span', { class: 'hh-address' }, hh.address) : null),
      statusBadge(hh),
    );
    toggle.addEventListener('click', () => {
      openId = open ? null : hh.id;
      render();
      root.querySelector<HTMLElement>(`[data-household="${hh.id}"]`)?.focus();
    });
    return h('li', { class: 'hh' }, toggle, open ? panel(hh, kind) : null);
  }

  function body(): (HTMLElement | null)[] {
    switch (state.kind) {
      case 'loading':
        return [h('h1', { id: 'op-title', tabindex: '-1' }, t('op.households')), h('p', { role: 'status' }, t('op.loading'))];
      case 'not-cached':
        return [
          h('h1', { id: 'op-title', tabindex: '-1' }, t('op.households')),
          h('div', { class: 'offline', role: 'status', 'data-offline': 'true' }, h('p', {}, t('op.notCached'))),
          backLink(),
        ];
      case 'error':
        return [
          h('h1', { id: 'op-title', tabindex: '-1' }, t('op.households')),
          h('div', { class: 'error', role: 'alert' }, h('p', {}, problemText(state.error))),
          backLink(),
        ];
      case 'ready': {
        const { operation: op, households } = state.data;
        const drill = isDrill(op);
        return [
          drill ? h('div', { class: 'drill-banner', role: 'note', 'data-drill': 'true' }, t('op.drillBanner')) : null,
          h('h1', { id: 'op-title', tabindex: '-1' }, `${drill ? (op.label || '【訓練】') : ''}${op.name}`),
          h('p', { class: 'op-kind' }, t(KIND_LABELS[op.kind] ?? 'op.households')),
          state.fromCache ? h('div', { class: 'offline', role: 'status', 'data-offline': 'true' }, h('p', {}, t('op.offlineCached'))) : null,
          h('h2', {}, t('op.households')),
          households.length === 0
            ? h('p', {}, t('op.noHouseholds'))
            : h('ol', { class: 'households' }, ...households.map((hh) => householdItem(hh, op.kind))),
          backLink(),
        ];
      }
    }
  }

  function backLink(): HTMLElement {
    const a = h('a', { href: '/', class: 'button secondary' }, t('op.back'));
    a.addEventListener('click', (ev) => {
      ev.preventDefault();
      ctx.navigate('/');
    });
    return a;
  }

  function render(): void {
    root.replaceChildren(h('section', { class: 'card op', 'aria-labelledby': 'op-title', 'aria-busy': state.kind === 'loading' ? 'true' : null }, ...body()));
  }

  void load();

  return {
    render,
    dispose() {
      disposed = true;
      window.removeEventListener('online', onOnline);
    },
  } satisfies Page;
};
