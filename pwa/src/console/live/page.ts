// The coordinator's live console for one operation: the page owns the life cycle (access, the
// live stream, the map, the loaders and timers) and one LiveState; each part of the screen is a
// panel module that renders from that state (counters, legend, filters, detail, side tabs).
import type { ApiClient } from '../../api/client';
import { ApiError } from '../../api/errors';
import { loadSession } from '../../auth/session';
import { t } from '../../i18n';
import type { Page, PageFactory } from '../../router';
import { h } from '../../ui/dom';
import { problemText } from '../../ui/problem-text';
import { consoleAccess, consoleNav } from '../common';
import { createBatcher, createThrottle } from './batcher';
import { renderCounters } from './counters';
import { renderDetail } from './detail';
import { renderFilters } from './filters';
import { CONN_KEYS } from './labels';
import { renderLegend } from './legend';
import type { LiveMap } from './map-view';
import { rate, type History, type Summary } from './progress';
import { renderSide } from './side';
import { initialState, TIMELINE_MAX, type Assignee, type Escalation, type HouseholdDetail, type LiveActions, type Shelter, type TimelineItem } from './state';
import { openLiveStream, type LiveEvent, type LiveStream } from './stream';

export const livePage: PageFactory = (root, ctx, params) => {
  const state = initialState(params?.['id'] ?? '');
  const opId = state.opId;
  let live: LiveMap | null = null;
  let stream: LiveStream | null = null;
  const deadlineTimers: Array<ReturnType<typeof setTimeout>> = [];

  // Persistent nodes: the map keeps its element across re-renders (language switch).
  const mapEl = h('div', { class: 'console-map', 'data-map': '', role: 'region' });
  const headEl = h('div', { class: 'console-head' });
  const countersEl = h('div', { class: 'console-counters', 'data-counters': '' });
  const filtersEl = h('form', { class: 'console-filters', 'data-filters': '' });
  const legendEl = h('div', { class: 'console-legend', 'data-legend': '' });
  const detailEl = h('aside', { class: 'console-detail', 'data-detail': '', 'aria-live': 'polite' });
  const sideEl = h('section', { class: 'console-side' });
  const connEl = h('p', { class: 'console-conn', role: 'status', 'data-conn': 'connecting' });

  detailEl.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Escape' || !state.detail) return;
    state.detail = null;
    show.detail();
    mapEl.querySelector<HTMLElement>('canvas')?.focus();
  });

  const actions: LiveActions = {
    openHousehold: (id, known = null) => void openHousehold(id, known),
    closeDetail() {
      state.detail = null;
      show.detail();
    },
    selectTab(tab) {
      state.tab = tab;
      if (tab === 'timeline' && !state.timelineDirty) void loadTimeline();
      show.side();
    },
    loadOlder: () => void loadTimeline(state.olderBefore),
    act: (fn) => void act(fn),
    setFilter(key, value) {
      state.filters[key] = value;
      if (key === 'reason' || key === 'hazard') {
        void applyServerFilter();
        return;
      }
      applyFilters();
      if (key === 'districtId' && state.tab === 'progress') show.side();
    },
  };

  // ---- rendering: each part of the screen from the state -------------------------------
  const titleEl = h('h1', { tabindex: '-1' });
  const show = {
    head(): void {
      const op = state.summary?.operation;
      titleEl.textContent = op ? `${op.label}${op.name}` : t('console.live.title');
      // Only the title changes on a refresh; the links are rebuilt on render() (language switch).
      if (!headEl.contains(titleEl)) headEl.replaceChildren(titleEl, consoleNav(ctx), connEl);
      show.conn();
    },
    conn(): void {
      // A closed operation changes no more: it must not claim 「リアルタイム更新中」.
      const closed = state.summary?.operation.status === 'closed';
      connEl.dataset['conn'] = closed ? 'closed' : state.conn.status;
      connEl.textContent = closed ? t('console.conn.closed') : t(CONN_KEYS[state.conn.status]);
    },
    counters: () => renderCounters(countersEl, state),
    legend: () => renderLegend(legendEl, state),
    filters: () => renderFilters(filtersEl, state, actions),
    detail: () => renderDetail(detailEl, state, actions),
    side: () => renderSide(sideEl, state, actions),
  };

  // ---- live updates ---------------------------------------------------------------------
  const statusBatch = createBatcher<string>((batch) => {
    live?.setHouseholdStatuses(batch);
    mapEl.dataset['flushed'] = String(Number(mapEl.dataset['flushed'] ?? '0') + batch.size);
    if (state.detail && 'id' in state.detail && batch.has(state.detail.id)) show.detail();
  }, 500);
  const refreshCounters = createThrottle(() => void loadSummary(), 1000);
  const refreshHistory = createThrottle(() => void loadHistory(), 5000);
  const refreshEscalations = createThrottle(() => void loadEscalations(), 1000);
  const timelineBatch = createBatcher<TimelineItem>((batch) => {
    state.timeline = [...[...batch.values()].reverse(), ...state.timeline].slice(0, TIMELINE_MAX);
    state.timelineDirty = true;
    if (state.tab === 'timeline') show.side();
  }, 500);

  function onEvent(ev: LiveEvent): void {
    if (ev.kind === 'target.status' && ev.household_id && typeof ev.status === 'string') {
      state.liveStatus.set(ev.household_id, ev.status);
      statusBatch.push(ev.household_id, ev.status);
      refreshCounters.call();
      refreshHistory.call();
    } else if (ev.kind.startsWith('escalation.')) {
      refreshEscalations.call();
    } else if (ev.kind === 'operation.closed') {
      refreshCounters.call(); // the summary then says closed, and the header stops saying live
    }
    timelineBatch.push(String(ev.id), { ...ev });
  }

  // ---- data loading ---------------------------------------------------------------------
  async function loadSummary(): Promise<void> {
    try {
      state.summary = await ctx.api.get<Summary>(`/api/console/operations/${encodeURIComponent(opId)}/summary`);
      const rates = new Map<string, number | null>();
      for (const d of state.summary.districts) if (d.district_id) rates.set(d.district_id, rate(d.confirmed, d.total));
      live?.setDistrictRates(rates);
      if (!state.disposed) {
        show.head();
        show.counters();
        show.legend();
        if (state.tab === 'progress') show.side();
      }
    } catch (err) {
      if (!state.summary) throw err;
    }
  }

  async function loadHistory(): Promise<void> {
    try {
      state.history = await ctx.api.get<History>(`/api/console/operations/${encodeURIComponent(opId)}/history?points=48`);
      if (!state.disposed && state.tab === 'progress') show.side();
    } catch {
      // The chart is a nicety: the table stays current without it.
    }
  }

  async function loadEscalations(): Promise<void> {
    try {
      state.escalations = await ctx.api.get<Escalation[]>(`/api/console/operations/${encodeURIComponent(opId)}/escalations`);
      if (!state.disposed) {
        show.counters();
        show.side(); // the tabs carry the open count, whichever tab is open
      }
    } catch {
      // Shown as stale until the next event triggers another load.
    }
  }

  /** Newest first; `before` pages back through older entries ("さらに表示"). */
  async function loadTimeline(before: number | null = null): Promise<void> {
    try {
      const q = before !== null ? `&before=${before}` : '';
      const res = await ctx.api.get<{ items: TimelineItem[]; next_before: number | null }>(
        `/api/console/operations/${encodeURIComponent(opId)}/timeline?limit=100${q}`);
      const seen = new Set(state.timeline.map((i) => i.id));
      state.timeline = [...state.timeline, ...res.items.filter((i) => !seen.has(i.id))].sort((a, b) => b.id - a.id).slice(0, TIMELINE_MAX);
      if (before !== null || state.olderBefore === null) state.olderBefore = res.next_before ?? null;
      if (!state.disposed && state.tab === 'timeline') show.side();
    } catch (err) {
      if (before !== null) {
        state.actionError = problemText(err);
        show.side();
      }
    }
  }

  async function loadShelters(): Promise<void> {
    try {
      state.shelters = await ctx.api.get<Shelter[]>('/api/shelters');
      if (!state.disposed && state.tab === 'shelters') show.side();
    } catch {
      // ignore
    }
  }

  async function openHousehold(id: string, known: string | null = null): Promise<void> {
    state.detail = { id, data: null, error: null, known };
    show.detail();
    try {
      const data = await ctx.api.get<HouseholdDetail>(`/api/households/${encodeURIComponent(id)}`);
      if (state.detail && 'id' in state.detail && state.detail.id === id) state.detail.data = data;
    } catch (err) {
      if (state.detail && 'id' in state.detail && state.detail.id === id) state.detail.error = err;
    }
    if (!state.disposed) show.detail();
  }

  async function applyServerFilter(): Promise<void> {
    if (!state.filters.reason && !state.filters.hazard) {
      state.matchIds = null;
    } else {
      const q = new URLSearchParams();
      if (state.filters.reason) q.set('support_reason', state.filters.reason);
      if (state.filters.hazard) q.set('hazard_kind', state.filters.hazard);
      try {
        const res = await ctx.api.get<{ household_ids: string[] }>(`/api/console/operations/${encodeURIComponent(opId)}/households?${q}`);
        state.matchIds = new Set(res.household_ids);
      } catch (err) {
        state.actionError = problemText(err);
        state.matchIds = null;
      }
    }
    applyFilters();
  }

  function applyFilters(): void {
    live?.setFilters({ districtId: state.filters.districtId, statuses: state.filters.status ? [state.filters.status] : [], matchIds: state.matchIds });
    mapEl.dataset['filter'] = [state.filters.districtId, state.filters.status, state.filters.reason, state.filters.hazard].filter(Boolean).join('|');
    show.filters();
  }

  async function act(fn: (api: ApiClient) => Promise<unknown>): Promise<void> {
    state.actionError = null;
    try {
      await fn(ctx.api);
      await loadEscalations();
    } catch (err) {
      state.actionError = problemText(err);
      show.side();
    }
  }

  async function start(): Promise<void> {
    try {
      const access = await consoleAccess(ctx);
      if (state.disposed || access === 'redirected') return;
      if (access === 'signed-out') {
        ctx.navigate('/login', { replace: true });
        return;
      }
      if (access === 'forbidden') {
        state.forbidden = true;
        render();
        return;
      }
      await loadSummary();
      if (state.disposed || !state.summary) return;
      // Follow the stream from the id the summary was taken at: nothing in between is lost.
      stream = openLiveStream({
        operationId: opId,
        lastEventId: state.summary.latest_event_id,
        onEvent,
        onState: (s) => {
          state.conn = s;
          show.conn();
          // Back from a gap: the stream replays what was missed; counters catch up too.
          if (s.status === 'live') refreshCounters.call();
          // The browser gave up twice: if the session ended, send the user to sign in again
          // instead of showing 再接続中 forever.
          if (s.failures === 2) {
            loadSession({ api: ctx.api }).then((now) => {
              if (!state.disposed && now.kind === 'signed-out') ctx.navigate('/login', { replace: true });
            }, () => undefined);
          }
        },
      });
      render();
      // Unreached households turn 'late' at the first-report target and 'overdue' at the completion
      // target: no event says so, so the figures (and the map, once drawn) are refreshed then.
      for (const at of [state.summary.late_at, state.summary.overdue_at]) {
        const due = at ? Date.parse(at) - Date.now() : -1;
        if (due > 0 && due < 2 ** 31 - 1) {
          deadlineTimers.push(setTimeout(() => {
            live?.reloadHouseholds();
            refreshCounters.call();
          }, due + 1000));
        }
      }
      void loadHistory();
      void loadEscalations();
      void loadTimeline();
      void loadShelters();
      ctx.api.get<Assignee[]>('/api/console/assignees').then((a) => (state.assignees = a), () => undefined);
      try {
        const { createLiveMap } = await import('./map-view');
        if (state.disposed) return;
        live = await createLiveMap(mapEl, ctx.api, opId, (id, known) => void openHousehold(id, known), (props) => {
          state.detail = { shelter: props };
          show.detail();
        });
      } catch (err) {
        // No WebGL (old tablet) or the map chunk did not load: the figures and panels still work.
        console.warn('Live map unavailable', err);
        mapEl.dataset['ready'] = 'failed';
        mapEl.replaceChildren(h('p', { role: 'alert', class: 'error' }, t('console.map.failed')));
        return;
      }
      if (state.disposed) {
        live.destroy();
        return;
      }
      const rates = new Map<string, number | null>();
      for (const d of state.summary.districts) if (d.district_id) rates.set(d.district_id, rate(d.confirmed, d.total));
      live.setDistrictRates(rates);
      live.setHouseholdStatuses(state.liveStatus);
      applyFilters();
      mapEl.dataset['ready'] = 'true';
      ctx.api.get<unknown>('/api/watch/coverage/pockets.geojson').then((g) => live?.setPockets(g), () => undefined);
    } catch (err) {
      if (state.disposed) return;
      state.fatal = err;
      render();
    }
  }

  function render(): void {
    if (state.fatal) {
      const notFound = state.fatal instanceof ApiError && state.fatal.status === 404;
      root.replaceChildren(h('div', { class: 'console' },
        h('h1', { tabindex: '-1' }, t('console.live.title')), consoleNav(ctx),
        h('p', { role: 'alert', class: 'error' }, notFound ? t('console.notFound') : problemText(state.fatal))));
      return;
    }
    if (state.forbidden) {
      root.replaceChildren(h('div', { class: 'console' }, h('h1', { tabindex: '-1' }, t('console.live.title')), h('p', { role: 'alert', class: 'error' }, t('console.forbidden'))));
      return;
    }
    if (!state.summary) {
      root.replaceChildren(h('div', { class: 'console' }, h('h1', { tabindex: '-1' }, t('console.live.title')), h('p', { role: 'status' }, t('home.loading'))));
      return;
    }
    mapEl.setAttribute('aria-label', t('console.map.label'));
    headEl.replaceChildren();
    show.head();
    show.counters();
    show.filters();
    show.legend();
    show.detail();
    show.side();
    const drill = state.summary.operation.mode === 'drill' ? h('p', { class: 'drill-banner', 'data-drill': '' }, t('op.drillBanner')) : null;
    // One column on a phone, in this order; on a desktop the map takes the left column from the
    // top and the rest stacks beside it, so the map is on screen without scrolling (styles.css).
    root.replaceChildren(h('div', { class: 'console', 'data-console': opId },
      headEl, drill, countersEl, filtersEl,
      h('section', { class: 'console-mapwrap', 'aria-label': t('console.map.section') }, h('div', { class: 'console-mapbox' }, mapEl, detailEl), legendEl),
      sideEl));
    live?.resize();
  }

  const page: Page = {
    render,
    dispose() {
      state.disposed = true;
      for (const timer of deadlineTimers) clearTimeout(timer);
      stream?.close();
      statusBatch.dispose();
      timelineBatch.dispose();
      refreshCounters.dispose();
      refreshHistory.dispose();
      refreshEscalations.dispose();
      live?.destroy();
    },
  };
  void start();
  return page;
};
