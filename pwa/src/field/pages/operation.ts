import { ApiError, NetworkError } from '../../api/errors';
import {
  CALL_NOW,
  isDrill,
  kindLabel,
  loadLocalStatus,
  loadMyHouseholds,
  outcomeLabel,
  OUTCOME_TONE,
  OUTCOMES,
  saveLocalStatus,
  saveMyHouseholds,
  type Household,
  type LocalStatus,
  type MyHouseholds,
} from '../model';
import { loadShelters, sortShelters, type Shelter } from '../shelters';
import { ageText, pullChanges } from '../sync';
import { t } from '../../i18n';
import { ensurePersistentStorage, requestBackgroundSync } from '../../outbox/runtime';
import { unsentByHousehold } from '../refused';
import { rememberAfterUnlock, vaultFor } from '../../vault/vault';
import type { Page, PageFactory } from '../../router';
import { appLink, h } from '../../ui/dom';
import { createMapSwitch } from './op-map';
import { problemText } from '../../ui/problem-text';

type State =
  | { kind: 'loading' }
  | { kind: 'ready'; data: MyHouseholds; fromCache: boolean; savedAt: number }
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
  let refreshing = false;
  let refreshNote: 'offline' | null = null;
  let refreshError: unknown = null;
  let shelters: Shelter[] | null = null;
  /** The household whose 避難済 shelter picker is open. */
  let pickingFor: string | null = null;
  let attachPosition = false;
  let gpsFailed = false;
  const vault = db ? vaultFor(db) : null;
  /** Households with records still on this device (waiting, or refused by the server). */
  let unsent = new Map<string, 'waiting' | 'refused'>();
  const offOutbox = ctx.outbox?.subscribe(() => {
    void ctx.outbox?.list(['pending', 'sending', 'failed', 'dead', 'conflict']).then((rows) => {
      const next = unsentByHousehold(rows, opId);
      const changed = next.size !== unsent.size || [...next].some(([k, v]) => unsent.get(k) !== v);
      unsent = next;
      if (changed && !disposed && state.kind === 'ready') render();
    }, () => undefined); // the database closed under a leaving page: nothing to mark
  });
  // List / map toggle (op-map.ts); a tap on the map opens that household's row here.
  const mapSwitch = createMapSwitch({
    api: ctx.api,
    opId,
    onChange: () => render(),
    onSelect: (id) => {
      openId = id;
      render();
      const row = root.querySelector<HTMLElement>(`[data-household="${id}"]`);
      row?.scrollIntoView({ block: 'center' });
      row?.focus();
    },
  });

  async function fromCache(): Promise<boolean> {
    const cached = db ? await loadMyHouseholds(db, opId) : null;
    if (disposed) return true;
    state = cached ? { kind: 'ready', data: cached.data, fromCache: true, savedAt: cached.saved_at } : { kind: 'not-cached' };
    return !!cached;
  }

  async function load(): Promise<void> {
    if (vault && !vault.unlocked) {
      // The list is sealed: ask for the PIN, then come back here.
      rememberAfterUnlock(`/op/${encodeURIComponent(opId)}`);
      ctx.navigate('/pin', { replace: true });
      return;
    }
    if (db) local = await loadLocalStatus(db, opId);
    if (!navigator.onLine) {
      await fromCache();
    } else {
      try {
        const data = await ctx.api.get<MyHouseholds>(`/api/operations/${encodeURIComponent(opId)}/my-households`);
        if (disposed) return;
        const savedAt = Date.now();
        state = { kind: 'ready', data, fromCache: false, savedAt };
        if (db) await saveMyHouseholds(db, opId, data, savedAt);
        void vault?.touchContact().catch(() => undefined); // contact: the no-contact clock restarts
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
    if (state.kind === 'ready' && state.data.operation.kind === 'safety_check' && shelters === null) {
      shelters = await loadShelters(ctx.api, db, navigator.onLine);
      if (!disposed && pickingFor) render();
    }
  }

  /** Pull refresh (button, `online`): what changed since the last pull, merged into the cache. */
  async function refresh(): Promise<void> {
    if (!db || refreshing) return;
    refreshError = null;
    if (!navigator.onLine) {
      refreshNote = 'offline';
      render();
      return;
    }
    refreshNote = null;
    refreshing = true;
    render();
    try {
      const res = await pullChanges(ctx.api, db);
      if (disposed) return;
      if (res.refetch.has(opId) || state.kind !== 'ready') {
        refreshing = false;
        await load();
        return;
      }
      const cached = await loadMyHouseholds(db, opId);
      if (cached) state = { kind: 'ready', data: cached.data, fromCache: false, savedAt: cached.saved_at };
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        ctx.navigate('/login', { replace: true });
        return;
      }
      refreshError = err;
    }
    refreshing = false;
    if (!disposed) render();
  }

  /** Device position for 避難済, only when the user ticked the box; never required. */
  function position(): Promise<{ lon: number; lat: number } | null> {
    if (!attachPosition || !navigator.geolocation) return Promise.resolve(null);
    return new Promise((resolve) => {
      navigator.geolocation.getCurrentPosition(
        (p) => resolve({ lon: p.coords.longitude, lat: p.coords.latitude }),
        () => resolve(null),
        { enableHighAccuracy: true, timeout: 10_000, maximumAge: 60_000 },
      );
    });
  }

  /** `shelter`: for 避難済, the chosen shelter's id, or 'unknown' for 「避難先がわからない」. */
  async function record(hh: Household, outcome: string, shelter?: string): Promise<void> {
    if (!ctx.outbox || !db || state.kind !== 'ready') return;
    recordError = null;
    gpsFailed = false;
    const note = notes.get(hh.id) ?? '';
    try {
      let where: { lon: number; lat: number } | null = null;
      if (outcome === 'evacuated' && attachPosition) {
        where = await position();
        gpsFailed = where === null;
      }
      pickingFor = null;
      const row = await ctx.outbox.enqueueVisit({
        operation_id: state.data.operation.id,
        household_id: hh.id,
        outcome,
        note,
        ...(shelter === 'unknown' ? { shelter_unknown: true } : shelter ? { shelter_id: shelter } : {}),
        ...(where ?? {}),
      });
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
    else void refresh();
  };
  window.addEventListener('online', onOnline);
  // The age text ("3時間前の情報") keeps counting while the page is open.
  const ageTimer = setInterval(() => {
    const el = root.querySelector<HTMLElement>('[data-age]');
    if (el && state.kind === 'ready') {
      const a = ageText(state.savedAt);
      el.textContent = t(a.key, { n: a.n });
    }
  }, 60_000);

  function statusBadge(hh: Household): HTMLElement {
    const mine = local[hh.id];
    const outcome = mine?.outcome ?? (hh.status !== 'unreached' ? hh.status : null);
    const label = outcomeLabel(outcome);
    const tone = outcome ? (OUTCOME_TONE[outcome] ?? 'neutral') : 'none';
    return h('span', { class: `badge outcome-${tone}`, 'data-status': outcome ?? 'unreached' }, label);
  }

  /** 未送信: a record for this household is still on the device; a refused one links to /outbox. */
  function unsentMark(householdId: string): HTMLElement | null {
    const kind = unsent.get(householdId);
    if (!kind) return null;
    return h('span', { class: `badge outcome-${kind === 'refused' ? 'danger' : 'warn'}`, 'data-unsent': kind },
      t(kind === 'refused' ? 'refused.mark.refused' : 'history.unsent'));
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
      const picking = outcome === 'evacuated' && pickingFor === hh.id;
      const b = h(
        'button',
        {
          type: 'button',
          class: `outcome outcome-${OUTCOME_TONE[outcome] ?? 'neutral'}`,
          'data-outcome': outcome,
          'aria-expanded': outcome === 'evacuated' ? (picking ? 'true' : 'false') : null,
        },
        outcomeLabel(outcome),
      );
      b.addEventListener('click', () => {
        if (outcome === 'evacuated') {
          // 避難済 asks where to (one more tap); everything else records at once.
          pickingFor = picking ? null : hh.id;
          render();
          root.querySelector<HTMLElement>('[data-shelter-picker] button')?.focus();
        } else void record(hh, outcome);
      });
      return b;
    });
    const mine = last && last.householdId === hh.id ? last : null;
    return h(
      'div',
      { class: 'hh-panel', id: `panel-${hh.id}`, 'data-household-panel': hh.id },
      mine && CALL_NOW.has(mine.outcome) ? callBox() : null,
      mine
        ? h('p', { role: 'status', class: 'recorded' }, t('op.recorded', { outcome: outcomeLabel(mine.outcome), time: timeText(mine.at) }))
        : null,
      recordError && openId === hh.id ? h('div', { class: 'error', role: 'alert' }, h('p', {}, problemText(recordError))) : null,
      mine && gpsFailed ? h('p', { role: 'status', class: 'hint' }, t('shelter.gpsFailed')) : null,
      h('p', { class: 'hint' }, t('op.recordHint')),
      h('div', { class: 'outcomes' }, ...buttons),
      pickingFor === hh.id ? shelterPicker(hh) : null,
      h('div', { class: 'field' }, h('label', { for: noteId }, t('op.note')), note),
      historyLink(hh),
    );
  }

  function shelterPicker(hh: Household): HTMLElement {
    const sorted = shelters ? sortShelters(shelters, hh).slice(0, 8) : [];
    const choice = (label: string, sub: string | null, shelter: string, attrs: Record<string, string>) => {
      const b = h('button', { type: 'button', class: 'shelter-choice', ...attrs }, h('span', {}, label), sub ? h('span', { class: 'hint' }, sub) : null);
      b.addEventListener('click', () => void record(hh, 'evacuated', shelter));
      return h('li', {}, b);
    };
    const gpsId = `gps-${hh.id}`;
    const gps = h('input', { type: 'checkbox', id: gpsId, 'data-attach-position': 'true' });
    gps.checked = attachPosition;
    gps.addEventListener('change', () => {
      attachPosition = gps.checked;
    });
    const cancel = h('button', { type: 'button', class: 'secondary' }, t('common.cancel'));
    cancel.addEventListener('click', () => {
      pickingFor = null;
      render();
      root.querySelector<HTMLElement>(`[data-household-panel="${hh.id}"] [data-outcome="evacuated"]`)?.focus();
    });
    return h(
      'fieldset',
      { class: 'shelter-picker', 'data-shelter-picker': 'true' },
      h('legend', {}, t('shelter.title')),
      h('p', { class: 'hint' }, shelters && shelters.length ? t('shelter.hint') : t('shelter.noList')),
      h(
        'ul',
        { class: 'shelters' },
        ...sorted.map((s) =>
          choice(
            s.name,
            [s.km !== null ? t('shelter.distance', { km: s.km.toFixed(1) }) : null, s.is_open ? null : t('shelter.closed')].filter(Boolean).join('・') || null,
            s.id,
            { 'data-shelter': s.id },
          ),
        ),
        choice(t('shelter.none'), t('shelter.noneHint'), 'unknown', { 'data-shelter': '', 'data-shelter-unknown': 'true' }),
      ),
      h('div', { class: 'check' }, gps, h('label', { for: gpsId }, t('shelter.gps'))),
      cancel,
    );
  }

  function historyLink(hh: Household): HTMLElement {
    const href = `/op/${encodeURIComponent(opId)}/h/${encodeURIComponent(hh.id)}`;
    return appLink(ctx, href, t('field.history'), { class: 'button secondary', 'data-history-link': hh.id });
  }

  function freshness(savedAt: number): HTMLElement {
    const a = ageText(savedAt);
    const b = h('button', { type: 'button', class: 'secondary', 'data-refresh': 'true', disabled: refreshing }, refreshing ? t('field.refreshing') : t('field.refresh'));
    b.addEventListener('click', () => void refresh());
    return h(
      'div',
      { class: 'freshness' },
      h('p', { class: 'age', 'data-age': String(savedAt), role: 'status' }, t(a.key, { n: a.n })),
      refreshNote === 'offline' ? h('p', { class: 'hint', role: 'status' }, t('field.refreshOffline')) : null,
      refreshError ? h('div', { class: 'error', role: 'alert' }, h('p', {}, problemText(refreshError))) : null,
      b,
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
      unsentMark(hh.id),
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
          appLink(ctx, '/', t('op.back'), { class: 'button secondary' }),
        ];
      case 'error':
        return [
          h('h1', { id: 'op-title', tabindex: '-1' }, t('op.households')),
          h('div', { class: 'error', role: 'alert' }, h('p', {}, problemText(state.error))),
          appLink(ctx, '/', t('op.back'), { class: 'button secondary' }),
        ];
      case 'ready': {
        const { operation: op, households } = state.data;
        const drill = isDrill(op);
        return [
          drill ? h('div', { class: 'drill-banner', role: 'note', 'data-drill': 'true' }, t('op.drillBanner')) : null,
          h('h1', { id: 'op-title', tabindex: '-1' }, `${drill ? (op.label || '【訓練】') : ''}${op.name}`),
          h('p', { class: 'op-kind' }, kindLabel(op.kind)),
          state.fromCache ? h('div', { class: 'offline', role: 'status', 'data-offline': 'true' }, h('p', {}, t('op.offlineCached'))) : null,
          freshness(state.savedAt),
          h('h2', {}, t('op.households')),
          households.length > 0 ? mapSwitch.toggle() : null,
          households.length === 0
            ? h('p', {}, t('op.noHouseholds'))
            : mapSwitch.view === 'map'
              ? mapSwitch.mapView(state.data, (hh) => local[hh.id]?.outcome ?? hh.status)
              : h('ol', { class: 'households' }, ...households.map((hh) => householdItem(hh, op.kind))),
          appLink(ctx, '/', t('op.back'), { class: 'button secondary' }),
        ];
      }
    }
  }

  function render(): void {
    root.replaceChildren(h('section', { class: 'card op', 'aria-labelledby': 'op-title', 'aria-busy': state.kind === 'loading' ? 'true' : null }, ...body()));
  }

  void load();

  return {
    render,
    dispose() {
      disposed = true;
      clearInterval(ageTimer);
      offOutbox?.();
      window.removeEventListener('online', onOnline);
      mapSwitch.dispose();
    },
  } satisfies Page;
};
