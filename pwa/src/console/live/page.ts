import { ApiError } from '../../api/errors';
import { loadSession } from '../../auth/session';
import { OUTCOME_LABELS } from '../../field/model';
import { t, type MessageKey } from '../../i18n';
import type { AppContext, Page, PageFactory } from '../../router';
import { h } from '../../ui/dom';
import { problemText } from '../../ui/problem-text';
import { createBatcher, createThrottle } from './batcher';
import { consoleAccess, consoleNav, timeOf } from '../common';
import { openLiveStream, type ConnState, type LiveEvent, type LiveStream } from './stream';
import type { LiveMap } from './map-view';
import { chartGeometry, formatDuration, overall, percent, rate, type History, type Summary } from './progress';
import { foldCounts, MAP_STATUSES, mapStatus, rateBand, RATE_STOPS, STATUS_STYLES, type MapStatus } from './status';

interface Escalation {
  id: string;
  household_id: string;
  level: 'urgent' | 'contact';
  outcome: string;
  status: 'open' | 'acknowledged' | 'resolved';
  mode: string;
  created_at: string;
  notes: string | null;
  assigned_to: string | null;
  assigned_to_name: string | null;
}

interface Assignee {
  id: string;
  display_name: string;
  role: string;
}

interface TimelineItem extends Partial<LiveEvent> {
  id: number;
  kind: string;
  at: string;
  household_id: string | null;
}

interface HouseholdDetail {
  id: string;
  address: string;
  town: string | null;
  district_id: string | null;
  people: Array<{ id: string; name: string; kana?: string; phone?: string | null; support_reasons?: string[] | null; notes?: string | null }>;
  notes?: string | null;
  disclosed_under: 'normal' | 'disaster';
}

interface Shelter {
  id: string;
  name: string;
  is_open: boolean;
  occupancy: number;
  capacity: number | null;
}

const OUTCOME_KEYS: Record<string, MessageKey> = {
  ...OUTCOME_LABELS,
  unreached: 'op.status.unreached',
  late: 'console.status.late',
  overdue: 'console.status.overdue',
};

const KIND_KEYS: Record<string, MessageKey> = {
  'visit.recorded': 'console.event.visit',
  'target.status': 'console.event.status',
  'escalation.created': 'console.event.escalationCreated',
  'escalation.acknowledged': 'console.event.escalationAcknowledged',
  'escalation.resolved': 'console.event.escalationResolved',
  'escalation.assigned': 'console.event.escalationAssigned',
  'operation.started': 'console.event.operationStarted',
  'operation.closed': 'console.event.operationClosed',
};

const SUPPORT_REASONS = ['care_level_3_5', 'physical_disability_1_2', 'intellectual_a', 'mental_1', 'intractable_disease', 'elderly_alone', 'elderly_only_household', 'other'] as const;
const SUPPORT_KEYS: Record<(typeof SUPPORT_REASONS)[number], MessageKey> = {
  care_level_3_5: 'console.reason.care_level_3_5',
  physical_disability_1_2: 'console.reason.physical_disability_1_2',
  intellectual_a: 'console.reason.intellectual_a',
  mental_1: 'console.reason.mental_1',
  intractable_disease: 'console.reason.intractable_disease',
  elderly_alone: 'console.reason.elderly_alone',
  elderly_only_household: 'console.reason.elderly_only_household',
  other: 'console.reason.other',
};
const HAZARD_KEYS: Record<string, MessageKey> = {
  flood: 'console.hazard.flood',
  landslide: 'console.hazard.landslide',
  other: 'console.hazard.other',
};
const BAND_KEYS: MessageKey[] = ['console.rate.band0', 'console.rate.band1', 'console.rate.band2', 'console.rate.band3'];
const CONN_KEYS: Record<ConnState['status'], MessageKey> = {
  connecting: 'console.conn.connecting',
  live: 'console.conn.live',
  reconnecting: 'console.conn.reconnecting',
};

type Tab = 'progress' | 'escalations' | 'timeline' | 'shelters';
const TAB_KEYS: Record<Tab, MessageKey> = {
  progress: 'console.tab.progress',
  escalations: 'console.tab.escalations',
  timeline: 'console.tab.timeline',
  shelters: 'console.tab.shelters',
};

/**
 * Rebuilds part of the screen without losing the keyboard user's place: live refreshes happen
 * several times a second, so the focused control (found again by its id) gets focus back.
 */
function keepingFocus(container: HTMLElement, rebuild: () => void): void {
  const active = document.activeElement;
  const id = active instanceof HTMLElement && container.contains(active) ? active.id : '';
  rebuild();
  if (id) document.getElementById(id)?.focus();
}

/** Drops the absent parts of a conditional list of nodes. */
function present(...nodes: Array<Node | null | undefined | false>): Node[] {
  return nodes.filter((n): n is Node => !!n);
}

/** A small SVG marker drawn with exactly the map's encoding (legend: shape, fill and ring). */
export function statusMarker(status: MapStatus): SVGSVGElement {
  const s = STATUS_STYLES[status];
  const NS = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('width', '28');
  svg.setAttribute('height', '28');
  svg.setAttribute('viewBox', '0 0 28 28');
  svg.setAttribute('aria-hidden', 'true');
  const c = document.createElementNS(NS, 'circle');
  c.setAttribute('cx', '14');
  c.setAttribute('cy', '14');
  c.setAttribute('r', String(s.radius));
  c.setAttribute('fill', s.fill ?? 'none');
  c.setAttribute('stroke', s.ring);
  c.setAttribute('stroke-width', String(s.ringWidth));
  svg.append(c);
  return svg;
}

export const livePage: PageFactory = (root, ctx, params) => {
  const opId = params?.['id'] ?? '';
  let disposed = false;
  let fatal: unknown = null;
  let forbidden = false;
  let summary: Summary | null = null;
  let history: History | null = null;
  let escalations: Escalation[] = [];
  let assignees: Assignee[] = [];
  let timeline: TimelineItem[] = [];
  let shelters: Shelter[] = [];
  let conn: ConnState = { status: 'connecting', lastEventId: null, failures: 0 };
  let tab: Tab = 'progress';
  let detail: { id: string; data: HouseholdDetail | null; error: unknown; known: string | null } | { shelter: Record<string, unknown> } | null = null;
  const liveStatus = new Map<string, string>();
  const drafts = new Map<string, string>();
  const filters = { districtId: null as string | null, status: '' as '' | MapStatus, reason: '', hazard: '' };
  let matchIds: Set<string> | null = null;
  let actionError: string | null = null;
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
    if (ev.key !== 'Escape' || !detail) return;
    detail = null;
    renderDetail();
    mapEl.querySelector<HTMLElement>('canvas')?.focus();
  });

  // ---- live updates ---------------------------------------------------------------------
  const statusBatch = createBatcher<string>((batch) => {
    live?.setHouseholdStatuses(batch);
    mapEl.dataset['flushed'] = String(Number(mapEl.dataset['flushed'] ?? '0') + batch.size);
    if (detail && 'id' in detail && batch.has(detail.id)) renderDetail();
  }, 500);
  const refreshCounters = createThrottle(() => void loadSummary(), 1000);
  const refreshHistory = createThrottle(() => void loadHistory(), 5000);
  const refreshEscalations = createThrottle(() => void loadEscalations(), 1000);
  let timelineDirty = false;
  const timelineBatch = createBatcher<TimelineItem>((batch) => {
    timeline = [...[...batch.values()].reverse(), ...timeline].slice(0, 2000);
    timelineDirty = true;
    if (tab === 'timeline') renderSide();
  }, 500);

  function onEvent(ev: LiveEvent): void {
    if (ev.kind === 'target.status' && ev.household_id && typeof ev.status === 'string') {
      liveStatus.set(ev.household_id, ev.status);
      statusBatch.push(ev.household_id, ev.status);
      refreshCounters.call();
      refreshHistory.call();
    } else if (ev.kind.startsWith('escalation.')) {
      refreshEscalations.call();
    } else if (ev.kind === 'operation.closed') {
      refreshCounters.call();
    }
    timelineBatch.push(String(ev.id), { ...ev });
  }

  // ---- data loading ---------------------------------------------------------------------
  async function loadSummary(): Promise<void> {
    try {
      summary = await ctx.api.get<Summary>(`/api/console/operations/${encodeURIComponent(opId)}/summary`);
      const rates = new Map<string, number | null>();
      for (const d of summary.districts) if (d.district_id) rates.set(d.district_id, rate(d.confirmed, d.total));
      live?.setDistrictRates(rates);
      if (!disposed) {
        renderHead();
        renderCounters();
        renderLegend();
        if (tab === 'progress') renderSide();
      }
    } catch (err) {
      if (!summary) throw err;
    }
  }

  async function loadHistory(): Promise<void> {
    try {
      history = await ctx.api.get<History>(`/api/console/operations/${encodeURIComponent(opId)}/history?points=48`);
      if (!disposed && tab === 'progress') renderSide();
    } catch {
      // The chart is a nicety: the table stays current without it.
    }
  }

  async function loadEscalations(): Promise<void> {
    try {
      escalations = await ctx.api.get<Escalation[]>(`/api/console/operations/${encodeURIComponent(opId)}/escalations`);
      if (!disposed) {
        renderCounters();
        if (tab === 'escalations') renderSide();
        renderTabs();
      }
    } catch {
      // Shown as stale until the next event triggers another load.
    }
  }

  let olderBefore: number | null = null;
  /** Newest first; `before` pages back through older entries ("さらに表示"). */
  async function loadTimeline(before: number | null = null): Promise<void> {
    try {
      const q = before !== null ? `&before=${before}` : '';
      const res = await ctx.api.get<{ items: TimelineItem[]; next_before: number | null }>(
        `/api/console/operations/${encodeURIComponent(opId)}/timeline?limit=100${q}`);
      const seen = new Set(timeline.map((i) => i.id));
      timeline = [...timeline, ...res.items.filter((i) => !seen.has(i.id))].sort((a, b) => b.id - a.id).slice(0, 2000);
      if (before !== null || olderBefore === null) olderBefore = res.next_before ?? null;
      if (!disposed && tab === 'timeline') renderSide();
    } catch (err) {
      if (before !== null) {
        actionError = problemText(err);
        renderSide();
      }
    }
  }

  async function loadShelters(): Promise<void> {
    try {
      shelters = await ctx.api.get<Shelter[]>('/api/shelters');
      if (!disposed && tab === 'shelters') renderSide();
    } catch {
      // ignore
    }
  }

  async function openHousehold(id: string, known: string | null = null): Promise<void> {
    detail = { id, data: null, error: null, known };
    renderDetail();
    try {
      const data = await ctx.api.get<HouseholdDetail>(`/api/households/${encodeURIComponent(id)}`);
      if (detail && 'id' in detail && detail.id === id) detail.data = data;
    } catch (err) {
      if (detail && 'id' in detail && detail.id === id) detail.error = err;
    }
    if (!disposed) renderDetail();
  }

  async function applyServerFilter(): Promise<void> {
    if (!filters.reason && !filters.hazard) {
      matchIds = null;
    } else {
      const q = new URLSearchParams();
      if (filters.reason) q.set('support_reason', filters.reason);
      if (filters.hazard) q.set('hazard_kind', filters.hazard);
      try {
        const res = await ctx.api.get<{ household_ids: string[] }>(`/api/console/operations/${encodeURIComponent(opId)}/households?${q}`);
        matchIds = new Set(res.household_ids);
      } catch (err) {
        actionError = problemText(err);
        matchIds = null;
      }
    }
    applyFilters();
  }

  function applyFilters(): void {
    live?.setFilters({ districtId: filters.districtId, statuses: filters.status ? [filters.status] : [], matchIds });
    mapEl.dataset['filter'] = [filters.districtId, filters.status, filters.reason, filters.hazard].filter(Boolean).join('|');
    renderFilters();
  }

  async function act(fn: () => Promise<unknown>): Promise<void> {
    actionError = null;
    try {
      await fn();
      await loadEscalations();
    } catch (err) {
      actionError = problemText(err);
      renderSide();
    }
  }

  async function start(): Promise<void> {
    try {
      const access = await consoleAccess(ctx);
      if (disposed || access === 'redirected') return;
      if (access === 'signed-out') {
        ctx.navigate('/login', { replace: true });
        return;
      }
      if (access === 'forbidden') {
        forbidden = true;
        render();
        return;
      }
      await loadSummary();
      if (disposed || !summary) return;
      // Follow the stream from the id the summary was taken at: nothing in between is lost.
      stream = openLiveStream({
        operationId: opId,
        lastEventId: summary.latest_event_id,
        onEvent,
        onState: (s) => {
          conn = s;
          renderConn();
          // Back from a gap: the stream replays what was missed; counters catch up too.
          if (s.status === 'live') refreshCounters.call();
          // The browser gave up twice: if the session ended, send the user to sign in again
          // instead of showing 再接続中 forever.
          if (s.failures === 2) {
            loadSession({ api: ctx.api }).then((now) => {
              if (!disposed && now.kind === 'signed-out') ctx.navigate('/login', { replace: true });
            }, () => undefined);
          }
        },
      });
      render();
      // Unreached households turn 'late' at the first-report target and 'overdue' at the completion
      // target: no event says so, so the figures (and the map, once drawn) are refreshed then.
      for (const at of [summary.late_at, summary.overdue_at]) {
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
      ctx.api.get<Assignee[]>('/api/console/assignees').then((a) => (assignees = a), () => undefined);
      try {
        const { createLiveMap } = await import('./map-view');
        if (disposed) return;
        live = await createLiveMap(mapEl, ctx.api, opId, (id, known) => void openHousehold(id, known), (props) => {
          detail = { shelter: props };
          renderDetail();
        });
      } catch (err) {
        // No WebGL (old tablet) or the map chunk did not load: the figures and panels still work.
        console.warn('Live map unavailable', err);
        mapEl.dataset['ready'] = 'failed';
        mapEl.replaceChildren(h('p', { role: 'alert', class: 'error' }, t('console.map.failed')));
        return;
      }
      if (disposed) {
        live.destroy();
        return;
      }
      const rates = new Map<string, number | null>();
      for (const d of summary.districts) if (d.district_id) rates.set(d.district_id, rate(d.confirmed, d.total));
      live.setDistrictRates(rates);
      live.setHouseholdStatuses(liveStatus);
      applyFilters();
      mapEl.dataset['ready'] = 'true';
      ctx.api.get<unknown>('/api/watch/coverage/pockets.geojson').then((g) => live?.setPockets(g), () => undefined);
    } catch (err) {
      if (disposed) return;
      fatal = err;
      render();
    }
  }

  // ---- rendering ------------------------------------------------------------------------
  const titleEl = h('h1', { tabindex: '-1' });
  function renderHead(): void {
    const op = summary?.operation;
    titleEl.textContent = op ? `${op.label}${op.name}` : t('console.live.title');
    // Only the title changes on a refresh; the links are rebuilt on render() (language switch).
    if (!headEl.contains(titleEl)) headEl.replaceChildren(titleEl, consoleNav(ctx), connEl);
    renderConn();
  }

  function renderConn(): void {
    connEl.dataset['conn'] = conn.status;
    connEl.textContent = t(CONN_KEYS[conn.status]);
  }

  function renderCounters(): void {
    if (!summary) return;
    const o = overall(summary.districts);
    const pct = percent(o.confirmed, o.total);
    const open = escalations.filter((e) => e.status !== 'resolved').length;
    const op = summary.operation;
    countersEl.replaceChildren(...present(
      h('div', { class: 'counter', 'data-counter': 'confirmed' },
        h('span', { class: 'counter-label' }, t('console.counter.confirmed')),
        h('span', { class: 'counter-value', 'data-value': o.confirmed }, t('console.counter.ofTotal', { confirmed: o.confirmed, total: o.total, percent: pct ?? 0 }))),
      h('div', { class: 'counter', 'data-counter': 'late' },
        h('span', { class: 'counter-label' }, statusMarker('late'), t('console.counter.late')),
        h('span', { class: 'counter-value', 'data-value': o.late }, t('console.count', { count: o.late }))),
      h('div', { class: 'counter', 'data-counter': 'overdue' },
        h('span', { class: 'counter-label' }, t('console.counter.overdue')),
        h('span', { class: 'counter-value', 'data-value': o.overdue }, t('console.count', { count: o.overdue }))),
      h('div', { class: 'counter', 'data-counter': 'needHelp' },
        h('span', { class: 'counter-label' }, t('console.counter.needHelp')),
        h('span', { class: 'counter-value', 'data-value': o.needHelp }, t('console.count', { count: o.needHelp }))),
      h('div', { class: 'counter', 'data-counter': 'escalations' },
        h('span', { class: 'counter-label' }, t('console.counter.openEscalations')),
        h('span', { class: 'counter-value', 'data-value': open }, t('console.count', { count: open }))),
      summary.late_at
        ? h('div', { class: 'counter', 'data-counter': 'firstReportTarget' },
            h('span', { class: 'counter-label' }, t('console.counter.firstReportTarget')),
            h('span', { class: 'counter-value' }, timeOf(summary.late_at, true)))
        : null,
      summary.overdue_at
        ? h('div', { class: 'counter' },
            h('span', { class: 'counter-label' }, t('console.counter.deadline')),
            h('span', { class: 'counter-value' }, timeOf(summary.overdue_at, true)))
        : null,
      op.status === 'closed' ? h('p', { class: 'notice' }, t('console.closed')) : null,
    ));
  }

  function renderLegend(): void {
    const counts = foldCounts(summary?.statuses ?? {});
    legendEl.replaceChildren(
      h('h2', {}, t('console.legend.title')),
      h('ul', { class: 'legend-list' },
        ...MAP_STATUSES.map((s) =>
          h('li', { 'data-legend': s }, statusMarker(s), h('span', {}, t(STATUS_STYLES[s].label)),
            h('span', { class: 'legend-count', 'data-legend-count': s }, t('console.count', { count: counts[s] }))),
        ),
      ),
      h('ul', { class: 'legend-list legend-areas' },
        ...RATE_STOPS.map(([, color], i) =>
          h('li', {}, h('span', { class: 'swatch', style: `background:${color}` }), h('span', {}, t(BAND_KEYS[i]!))),
        ),
        h('li', {}, h('span', { class: 'swatch swatch-pocket' }), h('span', {}, t('console.legend.pocket'))),
        h('li', {}, h('span', { class: 'swatch swatch-hazard' }), h('span', {}, t('console.legend.hazard'))),
        h('li', {}, h('span', { class: 'swatch swatch-shelter-open' }), h('span', {}, t('console.legend.shelterOpen'))),
        h('li', {}, h('span', { class: 'swatch swatch-shelter-closed' }), h('span', {}, t('console.legend.shelterClosed'))),
      ),
    );
  }

  function select(name: string, label: string, value: string, options: Array<[string, string]>, onChange: (v: string) => void): HTMLElement {
    const id = `console-filter-${name}`;
    const sel = h('select', { id, name }, h('option', { value: '' }, t('console.filter.all')),
      ...options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
    sel.addEventListener('change', () => onChange(sel.value));
    return h('div', { class: 'field' }, h('label', { for: id }, label), sel);
  }

  function renderFilters(): void {
    const districts = (summary?.districts ?? []).filter((d) => d.district_id) as Array<{ district_id: string; name: string }>;
    keepingFocus(filtersEl, () => filtersEl.replaceChildren(...present(
      select('district', t('console.filter.district'), filters.districtId ?? '', districts.map((d) => [d.district_id, d.name]), (v) => {
        filters.districtId = v || null;
        applyFilters();
        if (tab === 'progress') renderSide();
      }),
      select('status', t('console.filter.status'), filters.status, MAP_STATUSES.map((s) => [s, t(STATUS_STYLES[s].label)]), (v) => {
        filters.status = v as MapStatus | '';
        applyFilters();
      }),
      select('reason', t('console.filter.reason'), filters.reason, SUPPORT_REASONS.map((r) => [r, t(SUPPORT_KEYS[r])]), (v) => {
        filters.reason = v;
        void applyServerFilter();
      }),
      select('hazard', t('console.filter.hazard'), filters.hazard, Object.entries(HAZARD_KEYS).map(([k, key]) => [k, t(key)]), (v) => {
        filters.hazard = v;
        void applyServerFilter();
      }),
      matchIds !== null ? h('p', { class: 'filter-note', 'data-match-count': matchIds.size }, t('console.filter.matches', { count: matchIds.size })) : null,
    )));
  }

  function renderDetail(): void {
    keepingFocus(detailEl, renderDetailNow);
  }

  function renderDetailNow(): void {
    if (!detail) {
      detailEl.hidden = true;
      detailEl.replaceChildren();
      return;
    }
    detailEl.hidden = false;
    const close = h('button', { type: 'button', id: 'console-detail-close', class: 'secondary', 'data-close-detail': '' }, t('console.detail.close'));
    close.addEventListener('click', () => {
      detail = null;
      renderDetail();
    });
    if ('shelter' in detail) {
      const p = detail.shelter;
      const cap = typeof p['capacity'] === 'number' ? p['capacity'] : null;
      detailEl.replaceChildren(
        h('h2', {}, String(p['name'] ?? '')),
        h('p', {}, p['is_open'] ? t('console.shelter.open') : t('console.shelter.closed')),
        h('p', {}, cap !== null ? t('console.shelter.occupancyOf', { occupancy: Number(p['occupancy'] ?? 0), capacity: cap }) : t('console.shelter.occupancy', { occupancy: Number(p['occupancy'] ?? 0) })),
        close,
      );
      return;
    }
    const { id, data, error } = detail;
    const raw = liveStatus.get(id) ?? detail.known;
    const status = mapStatus(raw);
    detailEl.dataset['household'] = id;
    const statusLine = h('p', { class: 'detail-status', 'data-status': raw ?? '' },
      statusMarker(status), h('span', {}, raw ? t(OUTCOME_KEYS[raw] ?? STATUS_STYLES[status].label) : t('console.detail.statusFromMap')));
    if (error) {
      detailEl.replaceChildren(h('h2', {}, t('console.detail.title')), statusLine, h('p', { role: 'alert', class: 'error' }, problemText(error)), close);
      return;
    }
    if (!data) {
      detailEl.replaceChildren(h('h2', {}, t('console.detail.title')), statusLine, h('p', {}, t('home.loading')), close);
      return;
    }
    detailEl.replaceChildren(...present(
      h('h2', {}, data.address),
      statusLine,
      data.disclosed_under === 'disaster' ? h('p', { class: 'notice' }, t('console.detail.underDisaster')) : null,
      h('ul', { class: 'detail-people' },
        ...data.people.map((p) =>
          h('li', {},
            h('strong', {}, p.name),
            p.phone ? h('span', {}, ` ${t('console.detail.phone')}: `, h('a', { href: `tel:${p.phone}` }, p.phone)) : null,
            p.support_reasons && p.support_reasons.length
              ? h('span', { class: 'detail-reasons' }, ` ${p.support_reasons.map((r) => (r in SUPPORT_KEYS ? t(SUPPORT_KEYS[r as keyof typeof SUPPORT_KEYS]) : r)).join('・')}`)
              : null,
          ),
        ),
      ),
      data.people.length === 0 ? h('p', {}, t('console.detail.noPeople')) : null,
      data.notes ? h('p', { class: 'detail-notes' }, data.notes) : null,
      close,
    ));
  }

  function renderTabs(): HTMLElement {
    const list = h('div', { class: 'console-tabs', role: 'tablist', 'aria-label': t('console.tab.label') });
    for (const k of Object.keys(TAB_KEYS) as Tab[]) {
      const open = k === 'escalations' ? escalations.filter((e) => e.status !== 'resolved').length : 0;
      const b = h('button', { type: 'button', role: 'tab', id: `console-tab-${k}`, 'aria-selected': k === tab ? 'true' : 'false', 'aria-controls': 'console-tabpanel', 'data-tab': k },
        t(TAB_KEYS[k]), open ? ` (${open})` : '');
      b.addEventListener('click', () => {
        tab = k;
        if (k === 'timeline' && !timelineDirty) void loadTimeline();
        renderSide();
      });
      list.append(b);
    }
    return list;
  }

  function renderSide(): void {
    const panel = h('div', { id: 'console-tabpanel', role: 'tabpanel', 'aria-labelledby': `console-tab-${tab}`, class: 'console-panel' });
    if (actionError) panel.append(h('p', { role: 'alert', class: 'error' }, actionError));
    if (tab === 'progress') panel.append(...progressPanel());
    else if (tab === 'escalations') panel.append(...escalationPanel());
    else if (tab === 'timeline') panel.append(...timelinePanel());
    else panel.append(...shelterPanel());
    keepingFocus(sideEl, () => sideEl.replaceChildren(renderTabs(), panel));
  }

  function progressPanel(): Node[] {
    if (!summary) return [h('p', {}, t('home.loading'))];
    // Worst first: the districts that need attention are at the top of the wall display.
    const ordered = [...summary.districts].sort((a, b) =>
      b.overdue - a.overdue || (b.late ?? 0) - (a.late ?? 0) || (rate(a.confirmed, a.total) ?? 1) - (rate(b.confirmed, b.total) ?? 1) || a.name.localeCompare(b.name, 'ja'));
    const rows = ordered.map((d) => {
      const pct = percent(d.confirmed, d.total);
      const band = rateBand(rate(d.confirmed, d.total));
      return h('tr', { 'data-district': d.district_id ?? '' },
        h('th', { scope: 'row' }, d.name || t('console.progress.noDistrict')),
        h('td', { 'data-confirmed': d.confirmed, 'data-total': d.total }, `${d.confirmed} / ${d.total}`),
        h('td', {}, pct === null ? '—' : `${pct}%`, band !== null ? h('span', { class: 'visually-hidden' }, ` ${t(BAND_KEYS[band]!)}`) : null),
        h('td', {}, formatDuration(d.time_to_first_report_s) ?? t('console.progress.noReport')),
        h('td', { 'data-late': d.late ?? 0 }, String(d.late ?? 0)),
        h('td', { 'data-overdue': d.overdue }, String(d.overdue)),
        h('td', {}, String(d.need_help)),
      );
    });
    const table = h('table', { class: 'console-table', 'data-progress': '' },
      h('caption', {}, t('console.progress.caption')),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, t('console.progress.district')),
        h('th', { scope: 'col' }, t('console.progress.confirmed')),
        h('th', { scope: 'col' }, t('console.progress.rate')),
        h('th', { scope: 'col' }, t('console.progress.firstReport')),
        h('th', { scope: 'col' }, t('console.progress.late')),
        h('th', { scope: 'col' }, t('console.progress.overdue')),
        h('th', { scope: 'col' }, t('console.progress.needHelp')))),
      h('tbody', {}, ...rows),
    );
    return [chart(), table];
  }

  function chart(): HTMLElement {
    const d = filters.districtId;
    const series = history ? (d ? history.districts[d] ?? history.times.map(() => 0) : history.total) : [];
    const total = d ? summary?.districts.find((x) => x.district_id === d)?.total ?? 0 : overall(summary?.districts ?? []).total;
    const g = chartGeometry(series, total, 360, 160, 28);
    const NS = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(NS, 'svg');
    svg.setAttribute('viewBox', `0 0 ${g.width} ${g.height}`);
    svg.setAttribute('class', 'console-chart');
    svg.setAttribute('role', 'img');
    const name = d ? summary?.districts.find((x) => x.district_id === d)?.name ?? '' : t('console.chart.all');
    const label = t('console.chart.label', { name, percent: g.last?.value ?? 0 });
    svg.setAttribute('aria-label', label);
    for (const line of g.grid) {
      const l = document.createElementNS(NS, 'line');
      l.setAttribute('x1', '28');
      l.setAttribute('x2', String(g.width - 28));
      l.setAttribute('y1', String(line.y));
      l.setAttribute('y2', String(line.y));
      l.setAttribute('stroke', '#8a8a8a');
      l.setAttribute('stroke-dasharray', '3 3');
      const txt = document.createElementNS(NS, 'text');
      txt.setAttribute('x', '2');
      txt.setAttribute('y', String(line.y + 4));
      txt.setAttribute('font-size', '11');
      txt.setAttribute('fill', '#4a4a4a');
      txt.textContent = `${line.label}%`;
      svg.append(l, txt);
    }
    if (g.points) {
      const pl = document.createElementNS(NS, 'polyline');
      pl.setAttribute('points', g.points);
      pl.setAttribute('fill', 'none');
      pl.setAttribute('stroke', '#0b5d56');
      pl.setAttribute('stroke-width', '3');
      svg.append(pl);
    }
    const first = history?.times[0];
    const last = history?.times[history.times.length - 1];
    return h('figure', { class: 'console-figure', 'data-chart': '' }, svg,
      h('figcaption', {}, label, first && last ? ` (${timeOf(first)}–${timeOf(last)})` : ''));
  }

  function escalationPanel(): Node[] {
    if (escalations.length === 0) return [h('p', { 'data-escalations-empty': '' }, t('console.esc.none'))];
    return [h('ul', { class: 'esc-list', 'data-escalations': '' }, ...escalations.map((e) => {
      const note = h('textarea', { id: `esc-note-${e.id}`, rows: 2, maxlength: 2000 });
      note.value = drafts.get(e.id) ?? '';
      note.addEventListener('input', () => drafts.set(e.id, note.value));
      const ack = h('button', { type: 'button', id: `esc-ack-${e.id}`, 'data-ack': e.id, disabled: e.status !== 'open' }, t('console.esc.acknowledge'));
      ack.addEventListener('click', () => void act(() => ctx.api.post(`/api/escalations/${e.id}/acknowledge`, { note: note.value || null })));
      const resolve = h('button', { type: 'button', id: `esc-resolve-${e.id}`, 'data-resolve': e.id, disabled: e.status === 'resolved' }, t('console.esc.resolve'));
      resolve.addEventListener('click', () => void act(async () => {
        await ctx.api.post(`/api/escalations/${e.id}/resolve`, { note: note.value || null });
        drafts.delete(e.id);
      }));
      const who = h('select', { id: `esc-assign-${e.id}` }, ...assignees.map((a) => h('option', { value: a.id, selected: a.id === e.assigned_to }, a.display_name)));
      const assign = h('button', { type: 'button', id: `esc-do-assign-${e.id}`, class: 'secondary', 'data-assign': e.id, disabled: e.status === 'resolved' || assignees.length === 0 }, t('console.esc.assign'));
      assign.addEventListener('click', () => void act(() => ctx.api.post(`/api/console/escalations/${e.id}/assign`, { user_id: who.value, note: note.value || null })));
      const show = h('button', { type: 'button', id: `esc-show-${e.id}`, class: 'secondary', 'data-show-household': e.household_id }, t('console.showHousehold'));
      show.addEventListener('click', () => void openHousehold(e.household_id));
      const levelKey: MessageKey = e.level === 'urgent' ? 'console.esc.urgent' : 'console.esc.contact';
      const statusKey: MessageKey = e.status === 'open' ? 'console.esc.status.open' : e.status === 'acknowledged' ? 'console.esc.status.acknowledged' : 'console.esc.status.resolved';
      return h('li', { class: `esc esc-${e.level} esc-${e.status}`, 'data-escalation': e.id, 'data-status': e.status },
        h('p', { class: 'esc-head' }, h('strong', {}, t(levelKey)), ` ${t(OUTCOME_KEYS[e.outcome] ?? 'console.status.unreached')} · ${timeOf(e.created_at)} · `, h('span', { class: 'esc-status' }, t(statusKey))),
        h('p', {}, e.assigned_to_name ? t('console.esc.assignedTo', { name: e.assigned_to_name }) : t('console.esc.unassigned')),
        e.notes ? h('p', { class: 'esc-notes' }, e.notes) : null,
        e.status !== 'resolved'
          ? h('div', { class: 'esc-actions' },
              h('label', { for: `esc-note-${e.id}` }, t('console.esc.note')), note,
              h('div', { class: 'esc-buttons' }, ack, resolve),
              h('label', { for: `esc-assign-${e.id}` }, t('console.esc.assignee')),
              h('div', { class: 'esc-buttons' }, who, assign))
          : null,
        show,
      );
    }))];
  }

  function timelinePanel(): Node[] {
    if (timeline.length === 0) return [h('p', {}, t('console.timeline.none'))];
    return [h('ol', { class: 'timeline', 'data-timeline': '' }, ...timeline.map((i) => {
      const what = i.kind === 'target.status' || i.kind === 'visit.recorded' ? String(i.status ?? i.outcome ?? '') : String(i.outcome ?? '');
      const show = i.household_id ? h('button', { type: 'button', id: `tl-show-${i.id}`, class: 'link', 'data-show-household': i.household_id }, t('console.showHousehold')) : null;
      show?.addEventListener('click', () => void openHousehold(i.household_id!));
      return h('li', { 'data-event': i.id, 'data-kind': i.kind },
        h('time', { datetime: i.at }, timeOf(i.at)), ' ',
        h('span', {}, t(KIND_KEYS[i.kind] ?? 'console.event.other')),
        what && OUTCOME_KEYS[what] ? h('span', {}, `：${t(OUTCOME_KEYS[what]!)}`) : null,
        typeof i.assigned_to_name === 'string' ? h('span', {}, `：${i.assigned_to_name}`) : null,
        show ? ' ' : null, show);
    })), olderButton()].filter((n): n is HTMLElement => n !== null);
  }

  function olderButton(): HTMLElement | null {
    if (olderBefore === null) return null;
    const b = h('button', { type: 'button', id: 'console-timeline-older', class: 'secondary', 'data-older': '' }, t('console.timeline.older'));
    b.addEventListener('click', () => void loadTimeline(olderBefore));
    return b;
  }

  function shelterPanel(): Node[] {
    if (shelters.length === 0) return [h('p', {}, t('console.shelter.none'))];
    const sorted = [...shelters].sort((a, b) => Number(b.is_open) - Number(a.is_open) || a.name.localeCompare(b.name, 'ja'));
    return [h('table', { class: 'console-table' },
      h('caption', {}, t('console.shelter.caption')),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('console.shelter.name')), h('th', { scope: 'col' }, t('console.shelter.state')), h('th', { scope: 'col' }, t('console.shelter.people')))),
      h('tbody', {}, ...sorted.map((s) => h('tr', { 'data-shelter': s.id },
        h('th', { scope: 'row' }, s.name),
        h('td', {}, s.is_open ? t('console.shelter.open') : t('console.shelter.closed')),
        h('td', {}, s.capacity !== null ? `${s.occupancy} / ${s.capacity}` : String(s.occupancy))))))];
  }

  function render(): void {
    if (fatal) {
      const notFound = fatal instanceof ApiError && fatal.status === 404;
      root.replaceChildren(h('div', { class: 'console' },
        h('h1', { tabindex: '-1' }, t('console.live.title')), consoleNav(ctx),
        h('p', { role: 'alert', class: 'error' }, notFound ? t('console.notFound') : problemText(fatal))));
      return;
    }
    if (forbidden) {
      root.replaceChildren(h('div', { class: 'console' }, h('h1', { tabindex: '-1' }, t('console.live.title')), h('p', { role: 'alert', class: 'error' }, t('console.forbidden'))));
      return;
    }
    if (!summary) {
      root.replaceChildren(h('div', { class: 'console' }, h('h1', { tabindex: '-1' }, t('console.live.title')), h('p', { role: 'status' }, t('home.loading'))));
      return;
    }
    mapEl.setAttribute('aria-label', t('console.map.label'));
    headEl.replaceChildren();
    renderHead();
    renderCounters();
    renderFilters();
    renderLegend();
    renderDetail();
    renderSide();
    const drill = summary.operation.mode === 'drill' ? h('p', { class: 'drill-banner', 'data-drill': '' }, t('op.drillBanner')) : null;
    root.replaceChildren(h('div', { class: 'console', 'data-console': opId },
      headEl, drill, countersEl,
      h('div', { class: 'console-body' },
        h('section', { class: 'console-mapwrap', 'aria-label': t('console.map.section') }, filtersEl, h('div', { class: 'console-mapbox' }, mapEl, detailEl), legendEl),
        sideEl)));
    live?.resize();
  }

  const page: Page = {
    render,
    dispose() {
      disposed = true;
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

export type { AppContext };
