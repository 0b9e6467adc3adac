import { loadMapConfig } from '../map/config';
import { t, type MessageKey } from '../i18n';
import type { Page, PageFactory } from '../router';
import { h } from '../ui/dom';
import { confirmDialog } from './dialog';
import { selectField } from './forms';
import { districtTree, type District } from './operations-model';
import type { HouseholdOut } from './registry-model';
import { planningPanel } from './planning-panel';
import { errorBox, staffGate } from './shell';
import { coveredPercent, farLinkWarning, groupSuggestions, linkPayload, type Coverage, type Numbers, type Suggestion } from './watch-model';

interface WatcherOut { id: string; name: string; kana: string; role: string; capacity: number; load: number; available: boolean; district_id: string | null }
interface Pocket { type: 'Feature'; id: number; geometry: unknown; properties: { households: number; uncovered: number; weak_cover: number; in_hazard: number; radius_m: number } }

const COLS: [keyof Numbers | 'pct', MessageKey][] = [
  ['households', 'staff.watch.colHouseholds'],
  ['with_0', 'staff.watch.colWith0'],
  ['with_1', 'staff.watch.colWith1'],
  ['with_2_plus', 'staff.watch.colWith2'],
  ['pct', 'staff.watch.colPct'],
  ['in_hazard', 'staff.watch.colInHazard'],
  ['in_hazard_weak', 'staff.watch.colInHazardWeak'],
  ['with_far_watcher', 'staff.watch.colFar'],
  ['watchers_available', 'staff.watch.colWatchers'],
  ['watchers_over_capacity', 'staff.watch.colOver'],
  ['spare_capacity', 'staff.watch.colSpare'],
];

/** `/staff/watch`: coverage per district, pockets without watchers, suggestion review, watcher load. */
export const watchPage: PageFactory = (root, ctx) => {
  let districts: District[] = [];
  let districtId = '';
  let coverage: Coverage | null = null;
  let pockets: Pocket[] = [];
  let suggestions: Suggestion[] = [];
  let households = new Map<string, HouseholdOut>();
  let watchers: WatcherOut[] = [];
  let error: unknown = null;
  let actionError: unknown = null;
  let notice = '';
  let loading = false;
  const change = new Map<string, string>();
  let map: { remove(): void } | null = null;
  const mapBox = h('div', { class: 'staff-map', id: 'pockets-map', role: 'region', 'aria-label': t('staff.watch.mapLabel') });

  const planning = planningPanel(ctx, () => districtTree(districts).map((x) => x.district.id));
  const gate = staffGate(root, ctx, '/staff/watch', 'staff.watch.title', () => void start());

  async function start(): Promise<void> {
    try {
      districts = await ctx.api.get<District[]>('/api/districts');
    } catch (err) {
      error = err;
    }
    void planning.load();
    await load();
  }

  async function load(): Promise<void> {
    loading = true;
    render();
    const q = districtId ? `?district_id=${encodeURIComponent(districtId)}` : '';
    try {
      const [cov, pk, ws] = await Promise.all([
        ctx.api.get<Coverage>(`/api/watch/coverage${q}`),
        ctx.api.get<{ features: Pocket[] }>(`/api/watch/coverage/pockets.geojson${q}`),
        ctx.api.get<WatcherOut[]>('/api/watchers?limit=1000'),
      ]);
      coverage = cov;
      pockets = pk.features;
      watchers = ws;
      if (districtId) {
        suggestions = await ctx.api.get<Suggestion[]>(`/api/watch/suggestions?district_id=${encodeURIComponent(districtId)}&limit=20`);
        const ids = [...new Set(suggestions.map((s) => s.household_id))];
        const found = await Promise.all(ids.map((id) => ctx.api.get<HouseholdOut>(`/api/households/${id}`).catch(() => null)));
        households = new Map(found.filter((x): x is HouseholdOut => !!x).map((x) => [x.id, x]));
      } else {
        suggestions = [];
      }
      error = null;
    } catch (err) {
      error = err;
    }
    loading = false;
    render();
    void drawMap();
  }

  async function drawMap(): Promise<void> {
    if (!document.body.contains(mapBox)) return;
    try {
      const [{ maplibregl, baseStyle, KASAMA_CENTER }, config] = await Promise.all([import('../map/maplibre'), loadMapConfig(ctx.api)]);
      map?.remove();
      const m = new maplibregl.Map({ container: mapBox, style: baseStyle(config), center: KASAMA_CENTER, zoom: 11, attributionControl: { compact: true } });
      map = m;
      m.on('load', () => {
        m.addSource('pockets', { type: 'geojson', data: { type: 'FeatureCollection', features: pockets as never[] } });
        m.addLayer({ id: 'pockets-fill', type: 'fill', source: 'pockets', paint: { 'fill-color': '#b00020', 'fill-opacity': 0.35 } });
        m.addLayer({ id: 'pockets-line', type: 'line', source: 'pockets', paint: { 'line-color': '#7a0016', 'line-width': 2, 'line-dasharray': [2, 1] } });
        const coords = pockets.flatMap((p) => JSON.stringify(p.geometry).match(/-?\d+\.\d+,-?\d+\.\d+/g) ?? []).map((s) => s.split(',').map(Number) as [number, number]);
        if (coords.length) {
          const lons = coords.map((c) => c[0]);
          const lats = coords.map((c) => c[1]);
          m.fitBounds([[Math.min(...lons), Math.min(...lats)], [Math.max(...lons), Math.max(...lats)]], { padding: 40, maxZoom: 15, duration: 0 });
        }
      });
    } catch (err) {
      console.warn('pockets map', err);
    }
  }

  const watcherName = (id: string) => {
    const w = watchers.find((x) => x.id === id);
    return w ? `${w.name}（${t(w.role === 'commissioner' ? 'role.commissioner' : 'role.watcher')}）` : id;
  };

  async function accept(s: Suggestion, watcherId?: string, confirmFar = false): Promise<void> {
    actionError = null;
    const who = watcherName(watcherId ?? s.watcher_id);
    try {
      await ctx.api.post('/api/watch/links', linkPayload(s, watcherId, confirmFar));
      notice = confirmFar ? t('staff.watch.acceptedFar', { watcher: who }) : t('staff.watch.accepted', { watcher: who });
      await load();
    } catch (err) {
      const far = confirmFar ? null : farLinkWarning(err);
      if (far) {
        // Beyond walking distance: say so and let staff decide (the household stays weakly covered).
        const ok = await confirmDialog({
          title: t('staff.watch.farTitle'),
          body: [t('staff.watch.farBody', { watcher: who, distance: far.distance.toLocaleString('ja-JP'), radius: far.radius }), t('staff.watch.farWeak')],
          confirmLabel: t('staff.watch.farConfirm'),
          danger: true,
        });
        if (ok !== null) await accept(s, watcherId, true);
        return;
      }
      actionError = err;
      render();
    }
  }

  async function reject(s: Suggestion): Promise<void> {
    const reason = await confirmDialog({ title: t('staff.watch.rejectTitle'), body: [watcherName(s.watcher_id)], confirmLabel: t('staff.watch.reject'), input: { label: t('staff.watch.rejectReason'), minLength: 1 } });
    if (reason === null) return;
    actionError = null;
    try {
      await ctx.api.post('/api/watch/suggestions/reject', { household_id: s.household_id, watcher_id: s.watcher_id, reason });
      notice = t('staff.watch.rejected');
      render();
    } catch (err) {
      actionError = err;
      render();
    }
  }

  function numbersRow(name: string, n: Numbers, header = false): HTMLElement {
    return h(
      'tr',
      {},
      h('th', { scope: 'row' }, header ? h('strong', {}, name) : name),
      ...COLS.map(([k]) => h('td', { class: 'num' }, k === 'pct' ? `${coveredPercent(n)}%` : String(n[k]))),
    );
  }

  function coverageTable(c: Coverage): HTMLElement {
    const order = new Map(districtTree(districts).map((x, i) => [x.district.id, i]));
    const rows = [...c.districts].sort((a, b) => (order.get(a.district_id) ?? 0) - (order.get(b.district_id) ?? 0));
    return h(
      'div',
      { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': t('staff.watch.coverageTitle') },
      h(
        'table',
        { class: 'staff-table', 'data-coverage': 'true' },
        h('caption', {}, t('staff.watch.coverageCaption')),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('common.district')), ...COLS.map(([, key]) => h('th', { scope: 'col' }, t(key))))),
        h('tbody', {}, numbersRow(t('staff.watch.total'), c.totals, true), ...rows.map((d) => numbersRow(d.name, d.numbers)), c.unassigned ? numbersRow(t('staff.watch.unassigned'), c.unassigned) : null),
      ),
    );
  }

  function overCapacity(c: Coverage): HTMLElement {
    return h(
      'section',
      { 'aria-labelledby': 'over-title' },
      h('h2', { id: 'over-title' }, t('staff.watch.overTitle')),
      c.over_capacity.length === 0
        ? h('p', {}, t('staff.watch.overNone'))
        : h('ul', {}, ...c.over_capacity.map((o) => h('li', {}, t('staff.watch.overItem', { name: watcherName(o.watcher_id), load: o.load, capacity: o.capacity })))),
    );
  }

  function suggestionSection(): HTMLElement {
    if (!districtId) return h('section', { 'aria-labelledby': 'sug-title' }, h('h2', { id: 'sug-title' }, t('staff.watch.suggestTitle')), h('p', {}, t('staff.watch.pickDistrict')));
    const groups = groupSuggestions(suggestions);
    const candidates = watchers.filter((w) => w.available).sort((a, b) => a.kana.localeCompare(b.kana, 'ja'));
    return h(
      'section',
      { 'aria-labelledby': 'sug-title', 'data-suggestions': 'true' },
      h('h2', { id: 'sug-title' }, t('staff.watch.suggestTitle')),
      groups.length === 0
        ? h('p', {}, t('staff.watch.noSuggestions'))
        : h(
            'div',
            { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': t('staff.watch.suggestTitle') },
            h(
              'table',
              { class: 'staff-table' },
              h('caption', {}, t('staff.watch.suggestCaption')),
              h('thead', {}, h('tr', {}, ...(['common.household', 'staff.watch.colKind', 'staff.watch.colWatcher', 'staff.watch.colDistance', 'staff.colActions'] as const).map((k) => h('th', { scope: 'col' }, t(k))))),
              h(
                'tbody',
                {},
                ...groups.flatMap((g) =>
                  g.items.map((s, i) => {
                    const hh = households.get(s.household_id);
                    const acceptBtn = h('button', { type: 'button', class: 'primary', 'data-action': 'accept' }, t('staff.watch.accept'));
                    acceptBtn.addEventListener('click', () => void accept(s));
                    const selId = `change-${s.household_id}-${s.kind}`;
                    const sel = h('select', { id: selId }, h('option', { value: '' }, t('staff.watch.choose')), ...candidates.map((w) => h('option', { value: w.id, selected: change.get(selId) === w.id }, `${w.name}（${w.load}/${w.capacity}）`)));
                    sel.addEventListener('change', () => change.set(selId, sel.value));
                    const changeBtn = h('button', { type: 'button', class: 'secondary', 'data-action': 'change' }, t('staff.watch.change'));
                    changeBtn.addEventListener('click', () => {
                      const w = change.get(selId);
                      if (w) void accept(s, w);
                      else sel.focus();
                    });
                    const rejectBtn = h('button', { type: 'button', class: 'secondary', 'data-action': 'reject' }, t('staff.watch.reject'));
                    rejectBtn.addEventListener('click', () => void reject(s));
                    return h(
                      'tr',
                      { 'data-suggestion': `${s.household_id}:${s.kind}` },
                      i === 0 ? h('th', { scope: 'rowgroup', rowspan: String(g.items.length) }, hh ? hh.address : t('staff.reg.notDisclosed'), hh ? h('div', { class: 'hint' }, hh.people.map((p) => p.name).join('、')) : null) : null,
                      h('td', {}, s.kind === 'primary' ? t('staff.watch.primary') : t('staff.watch.backup')),
                      h('td', {}, watcherName(s.watcher_id)),
                      h('td', { class: 'num' }, t('staff.reg.metres', { m: s.distance_m })),
                      h('td', {}, h('div', { class: 'actions' }, acceptBtn, h('label', { for: selId, class: 'visually-hidden' }, t('staff.watch.changeTo')), sel, changeBtn, rejectBtn)),
                    );
                  }),
                ),
              ),
            ),
          ),
    );
  }

  function pocketsSection(): HTMLElement {
    return h(
      'section',
      { 'aria-labelledby': 'pockets-title' },
      h('h2', { id: 'pockets-title' }, t('map.pockets')),
      h('p', { class: 'hint' }, t('staff.watch.pocketsLead')),
      mapBox,
      pockets.length === 0
        ? h('p', {}, t('staff.watch.noPockets'))
        : h('ul', { 'data-pockets': 'true' }, ...pockets.map((p) => h('li', {}, t('staff.watch.pocketItem', { n: p.id, households: p.properties.households, uncovered: p.properties.uncovered, hazard: p.properties.in_hazard })))),
    );
  }

  function render(): void {
    gate.render(() => [
      h('p', {}, t('staff.watch.lead')),
      selectField('watch-district', 'common.district', [['', t('staff.watch.wholeCity')], ...districtTree(districts).map(({ district: d, depth }) => [d.id, `${'　'.repeat(depth)}${d.name}`] as [string, string])], districtId, (v) => {
        districtId = v;
        void load();
      }),
      notice ? h('p', { class: 'ok-note', role: 'status' }, notice) : null,
      error ? errorBox(error) : null,
      actionError ? errorBox(actionError) : null,
      loading ? h('p', { role: 'status' }, t('home.loading')) : null,
      coverage ? h('section', { 'aria-labelledby': 'cov-title' }, h('h2', { id: 'cov-title' }, t('staff.watch.coverageTitle')), coverageTable(coverage)) : null,
      planning.el,
      suggestionSection(),
      coverage ? overCapacity(coverage) : null,
      pocketsSection(),
    ]);
  }

  render();
  return {
    render,
    dispose: () => {
      gate.dispose();
      map?.remove();
    },
  } satisfies Page;
};
