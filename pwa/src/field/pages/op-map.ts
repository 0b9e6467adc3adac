/**
 * The watcher's map on the operation page: "my households" on MapLibre over the council's base
 * map, with our vector tiles (the operation's households with live status, shelters, hazard
 * zones). Status is colour + shape + the walking-order number, with a text legend; tapping a
 * household opens its row in the list (the record flow). Households at (nearly) the same place
 * draw their marks on top of each other: a tap under which several marks lie opens a short list
 * of them over the map, so every household is reachable (#17). MapLibre is imported only when the map
 * is first shown, so it stays out of the initial bundle.
 *
 * Offline with nothing cached the map shows the plain background and says so; a device that
 * cannot draw the map at all gets a note and the list stays one tap away.
 */
import type { ApiClient } from '../../api/client';
import type { Household, MyHouseholds } from '../model';
import { t } from '../../i18n';
import { absoluteTiles, loadMapConfig, type MapConfig } from '../../map/config';
import {
  areaUrls,
  downloadArea,
  DOWNLOAD_MAX_TILES,
  DOWNLOAD_MAX_ZOOM,
  DOWNLOAD_MIN_ZOOM,
  formatBytes,
  setTileCacheUser,
  type AreaSource,
  type DownloadProgress,
} from '../../map/offline';
import { drawIcon, householdImage, iconCanvas, LEGEND_STATUSES, statusImage, statusLabel, statusLook } from '../map-symbols';
import { boundsOf, type LngLatBounds } from '../../map/tiles';
import { h } from '../../ui/dom';
import { mapLocale } from '../../map/locale';

type Located = Household & { lon?: number | null; lat?: number | null };
type MapModule = typeof import('../../map/maplibre');
type MapInstance = InstanceType<MapModule['maplibregl']['Map']>;

export type OpView = 'list' | 'map';

export interface MapSwitchOptions {
  api: ApiClient;
  opId: string;
  /** Re-render the operation page (the view changed). */
  onChange(): void;
  /** A household was tapped on the map: the view is already back to the list. */
  onSelect(householdId: string): void;
}

export interface MapSwitch {
  readonly view: OpView;
  /** The list / map buttons. */
  toggle(): HTMLElement;
  /** The map section (the same element on every call, so the map survives re-renders). */
  mapView(data: MyHouseholds, statusOf: (hh: Household) => string): HTMLElement;
  dispose(): void;
}

const HOUSEHOLD_LAYER = 'op-households';
const SHELTER_IMAGE = 'shelter';
/** Statuses the live tile derives from the clock for unreached households (first-report, completion target). */
const CLOCK_STATUSES: readonly string[] = ['late', 'overdue'];
const VECTOR_MAX_ZOOM = DOWNLOAD_MAX_ZOOM; // deeper zooms over-zoom z17 tiles (which are downloadable)
/** A household's 28 px mark lies under the finger when its centre is this close to the tap. */
const UNDER_FINGER_PX = 20;

type DownloadState =
  | { kind: 'idle' }
  | { kind: 'running'; progress: DownloadProgress; ctrl: AbortController }
  | { kind: 'finished'; progress: DownloadProgress; cancelled: boolean };

export function createMapSwitch(opts: MapSwitchOptions): MapSwitch {
  let view: OpView = 'list';
  let disposed = false;

  // The map section's parts. Texts are rebuilt on every mapView() (language switch);
  // the canvas container and the MapLibre instance persist.
  const notesEl = h('div', { class: 'map-notes', role: 'status', 'aria-live': 'polite' });
  const canvasEl = h('div', { class: 'map-canvas', 'data-map-state': 'idle' });
  const attributionEl = h('p', { class: 'map-attribution' });
  const legendEl = h('section', { class: 'map-legend' });
  const downloadEl = h('section', { class: 'map-download', 'data-map-download': 'true' });
  const hintEl = h('p', { class: 'hint' });
  // Over the map: the households under one tap when their marks overlap.
  const pickEl = h('div', { class: 'map-pick', 'data-map-pick': 'true', role: 'dialog', 'aria-labelledby': 'map-pick-title', hidden: true });
  const frameEl = h('div', { class: 'map-frame' }, canvasEl, pickEl);
  // The map right under the toggle, the hint and the rest below it: on a phone the map must be
  // on screen once 地図 is pressed (#17: it was below the fold).
  // The notes under the map, so the map stays right below the list/map toggle on a phone (#17).
  const section = h('section', { class: 'op-map', 'data-op-map': 'true' }, frameEl, notesEl, hintEl, attributionEl, legendEl, downloadEl);

  let map: MapInstance | null = null;
  let config: MapConfig | null = null;
  let failed = false;
  let tileErrors = false;
  let households: Located[] = [];
  let statusOf: (hh: Household) => string = (hh) => hh.status;
  const drawn = new Map<string, string>(); // household id → status its icon shows
  let download: DownloadState = { kind: 'idle' };
  let storage: { used: number; quota: number } | null = null;
  let starting = false;

  const onConnectivity = () => renderTexts();
  window.addEventListener('online', onConnectivity);
  window.addEventListener('offline', onConnectivity);

  function located(): Array<Located & { lon: number; lat: number }> {
    return households.filter((hh): hh is Located & { lon: number; lat: number } => typeof hh.lon === 'number' && typeof hh.lat === 'number');
  }

  function area(): LngLatBounds | null {
    return boundsOf(households, 150);
  }

  // --- the texts around the map --------------------------------------------------------
  function renderNotes(): void {
    const notes: HTMLElement[] = [];
    if (failed) notes.push(h('p', { class: 'map-note error', 'data-map-note': 'failed' }, t('map.failed')));
    else {
      if (!navigator.onLine) notes.push(h('p', { class: 'map-note offline', 'data-map-note': 'offline' }, t('map.offline')));
      else if (tileErrors) notes.push(h('p', { class: 'map-note offline', 'data-map-note': 'tiles' }, t('map.tileErrors')));
      if (config && !config.basemap) notes.push(h('p', { class: 'map-note offline', 'data-map-note': 'no-basemap' }, t('map.noBasemap')));
    }
    const missing = households.length - located().length;
    if (missing > 0) notes.push(h('p', { class: 'map-note' }, t('map.noLocation', { count: missing })));
    notesEl.replaceChildren(...notes);
  }

  function legendIcon(status: string): HTMLElement {
    const canvas = drawIcon(statusLook(status), '', 1);
    const img = h('img', { alt: '', width: 28, height: 28, class: 'legend-icon' });
    if (canvas) img.src = canvas.toDataURL();
    return img;
  }

  function renderLegend(): void {
    const statuses = LEGEND_STATUSES.filter((s) => s === 'unreached' || CLOCK_STATUSES.includes(s) || households.some((hh) => statusOf(hh) === s) || shownStatuses.has(s));
    const shelter = drawShelterIcon(1);
    const shelterImg = h('img', { alt: '', width: 28, height: 28, class: 'legend-icon' });
    if (shelter) shelterImg.src = shelter.toDataURL();
    legendEl.replaceChildren(
      h('h3', {}, t('map.legend')),
      h(
        'ul',
        { class: 'legend-list' },
        ...statuses.map((s) => h('li', { 'data-legend': s }, legendIcon(s), h('span', {}, statusLabel(s)))),
        h('li', { 'data-legend': 'shelter' }, shelterImg, h('span', {}, t('common.shelter'))),
        h('li', { 'data-legend': 'hazard' }, h('span', { class: 'legend-hazard', 'aria-hidden': 'true' }), h('span', {}, t('map.hazard'))),
      ),
    );
  }

  function renderDownload(): void {
    const b = area();
    const urls = b && config ? areaUrls(b, sources(config)) : [];
    const parts: Array<HTMLElement | null> = [h('h3', {}, t('map.download.title')), h('p', {}, t('map.download.lead'))];
    let status: HTMLElement | null = null;
    if (!b) status = h('p', { 'data-download-status': 'no-area' }, t('map.download.noArea'));
    else if (urls.length > DOWNLOAD_MAX_TILES) status = h('p', { 'data-download-status': 'too-many' }, t('map.download.tooMany', { total: urls.length }));
    else if (config) parts.push(h('p', { 'data-download-estimate': String(urls.length) }, t('map.download.estimate', { total: urls.length })));

    if (download.kind === 'running') {
      const p = download.progress;
      parts.push(
        h('progress', { max: Math.max(1, p.total), value: p.done + p.failed, 'aria-label': t('map.download.title') }),
        h('p', { 'data-download-progress': `${p.done + p.failed}/${p.total}` }, t('map.download.progress', { done: p.done + p.failed, total: p.total, size: formatBytes(p.bytes) })),
      );
      const cancel = h('button', { type: 'button', class: 'secondary', 'data-download-cancel': 'true' }, t('map.download.cancel'));
      cancel.addEventListener('click', () => {
        if (download.kind === 'running') download.ctrl.abort();
      });
      parts.push(cancel);
    } else {
      if (download.kind === 'finished') {
        const p = download.progress;
        const size = formatBytes(p.bytes);
        parts.push(
          h(
            'p',
            { 'data-download-result': download.cancelled ? 'cancelled' : p.failed > 0 ? 'partial' : 'done', 'data-download-done': String(p.done) },
            download.cancelled ? t('map.download.cancelled', { done: p.done, total: p.total }) : t('map.download.done', { done: p.done, size }),
          ),
        );
        if (p.failed > 0 && !download.cancelled) parts.push(h('p', { class: 'error' }, t('map.download.failed', { failed: p.failed })));
      }
      if (!status && !navigator.onLine) status = h('p', { 'data-download-status': 'offline' }, t('map.download.offline'));
      if (!status && !navigator.serviceWorker?.controller) status = h('p', { 'data-download-status': 'no-worker' }, t('map.download.noWorker'));
      const start = h('button', { type: 'button', class: 'primary', 'data-download-start': 'true' }, t('map.download.start'));
      if (status || !config) start.setAttribute('disabled', '');
      start.addEventListener('click', () => void startDownload());
      parts.push(start);
    }
    parts.push(status);
    if (storage) {
      parts.push(
        h('p', { class: 'hint', 'data-storage': 'true' }, t('common.deviceStorage', { used: formatBytes(storage.used), quota: formatBytes(storage.quota) })),
      );
    }
    downloadEl.replaceChildren(...parts.filter((x): x is HTMLElement => !!x));
  }

  function renderTexts(): void {
    if (disposed) return;
    hintEl.textContent = t('map.tapHint');
    renderPick();
    attributionEl.textContent = config?.basemap ? t('map.attribution', { attribution: config.basemap.attribution }) : '';
    canvasEl.setAttribute('aria-label', t('map.label'));
    renderNotes();
    renderLegend();
    renderDownload();
  }

  async function refreshStorage(): Promise<void> {
    try {
      const est = await navigator.storage?.estimate?.();
      if (est && typeof est.usage === 'number' && typeof est.quota === 'number') storage = { used: est.usage, quota: est.quota };
    } catch {
      storage = null;
    }
    renderDownload();
  }

  // --- download my area ------------------------------------------------------------------
  function sources(c: MapConfig): AreaSource[] {
    const own = (layer: keyof MapConfig['layers'], query = ''): AreaSource => ({
      template: absoluteTiles(c.layers[layer].tiles, query),
      minZoom: DOWNLOAD_MIN_ZOOM,
      maxZoom: DOWNLOAD_MAX_ZOOM,
      credentials: 'same-origin',
    });
    const list = [own('households', `?operation_id=${encodeURIComponent(opts.opId)}`), own('shelters'), own('hazard-zones')];
    if (c.basemap) {
      list.push({ template: c.basemap.url, minZoom: DOWNLOAD_MIN_ZOOM, maxZoom: Math.min(DOWNLOAD_MAX_ZOOM, c.basemap.max_zoom), credentials: 'omit' });
    }
    return list;
  }

  async function startDownload(): Promise<void> {
    const b = area();
    if (!b || !config || download.kind === 'running') return;
    const urls = areaUrls(b, sources(config));
    if (urls.length === 0 || urls.length > DOWNLOAD_MAX_TILES) return;
    await ensureTileUser();
    const ctrl = new AbortController();
    download = { kind: 'running', progress: { done: 0, total: urls.length, failed: 0, bytes: 0 }, ctrl };
    renderDownload();
    downloadEl.querySelector<HTMLElement>('[data-download-cancel]')?.focus();
    const final = await downloadArea(
      urls,
      (p) => {
        if (download.kind !== 'running' || disposed) return;
        download.progress = p;
        const bar = downloadEl.querySelector('progress');
        const text = downloadEl.querySelector<HTMLElement>('[data-download-progress]');
        if (bar) bar.value = p.done + p.failed;
        if (text) {
          text.dataset['downloadProgress'] = `${p.done + p.failed}/${p.total}`;
          text.textContent = t('map.download.progress', { done: p.done + p.failed, total: p.total, size: formatBytes(p.bytes) });
        }
      },
      ctrl.signal,
    );
    if (disposed) return;
    download = { kind: 'finished', progress: final, cancelled: ctrl.signal.aborted };
    renderDownload();
    downloadEl.querySelector<HTMLElement>('[data-download-start]')?.focus();
    void refreshStorage();
  }

  // --- several households under one tap -----------------------------------------------
  let picking: string[] = [];

  function select(id: string): void {
    closePick(false);
    view = 'list';
    opts.onSelect(id);
  }

  function closePick(refocus = true): void {
    if (picking.length === 0) return;
    picking = [];
    pickEl.hidden = true;
    pickEl.replaceChildren();
    if (refocus) map?.getCanvas().focus();
  }

  function renderPick(): void {
    if (picking.length === 0) return;
    const rows = picking.map((id) => households.find((hh) => hh.id === id)).filter((hh): hh is Located => !!hh);
    const close = h('button', { type: 'button', class: 'secondary', 'data-map-pick-close': 'true' }, t('map.pick.close'));
    close.addEventListener('click', () => closePick());
    pickEl.replaceChildren(
      h('h3', { id: 'map-pick-title' }, t('map.pick.title', { count: rows.length })),
      h(
        'ul',
        { class: 'map-pick-list' },
        ...rows.map((hh) => {
          const names = hh.people.map((p) => p.name).filter(Boolean).join('・');
          const b = h(
            'button',
            { type: 'button', class: 'secondary', 'data-map-pick-household': hh.id },
            h('span', { class: 'hh-order' }, String(hh.order)),
            h('span', { class: 'hh-text' }, h('span', { class: 'hh-name' }, names || hh.address), h('span', { class: 'hh-address' }, `${statusLabel(statusOf(hh))}${names ? `・${hh.address}` : ''}`)),
          );
          b.addEventListener('click', () => select(hh.id));
          return h('li', {}, b);
        }),
      ),
      close,
    );
  }

  function openPick(ids: string[]): void {
    picking = ids;
    renderPick();
    pickEl.hidden = false;
    pickEl.querySelector<HTMLElement>('[data-map-pick-household]')?.focus({ preventScroll: true });
  }

  pickEl.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') closePick();
  });

  // --- the map ---------------------------------------------------------------------------
  let tileUserSet: Promise<void> | null = null;
  /** Tells the worker whose private tiles these are, once per page (online only). */
  function ensureTileUser(): Promise<void> {
    if (!navigator.onLine) return Promise.resolve();
    tileUserSet ??= opts.api
      .me()
      .then((u) => setTileCacheUser(u.id))
      .then(
        () => undefined,
        () => {
          tileUserSet = null;
        },
      );
    return tileUserSet;
  }

  const shownStatuses = new Set<string>();

  function addIcon(m: MapInstance, name: string, canvas: HTMLCanvasElement | null): void {
    if (!canvas) return;
    const g = canvas.getContext('2d');
    if (!g) return;
    const data = g.getImageData(0, 0, canvas.width, canvas.height);
    if (m.hasImage(name)) m.updateImage(name, data);
    else m.addImage(name, data, { pixelRatio: 2 });
  }

  function syncHouseholdIcons(): void {
    if (!map) return;
    for (const hh of households) {
      const status = statusOf(hh);
      if (drawn.get(hh.id) === status) continue;
      addIcon(map, householdImage(hh.id), drawIcon(statusLook(status), String(hh.order), 2));
      // Still unreached here, but the live tile may say a target time has passed: then the number
      // is drawn in the "late" or "overdue" look (the style picks `hh-<id>-<tile status>`).
      for (const clock of CLOCK_STATUSES) {
        const name = `${householdImage(hh.id)}-${clock}`;
        if (status === 'unreached') addIcon(map, name, drawIcon(statusLook(clock), String(hh.order), 2));
        else if (map.hasImage(name)) map.removeImage(name);
      }
      drawn.set(hh.id, status);
    }
  }

  /** For tests and the legend: which households the map actually drew, and where. */
  function publishRendered(): void {
    if (!map) return;
    const feats = map.queryRenderedFeatures({ layers: [HOUSEHOLD_LAYER] });
    const seen = new Map<string, { id: string; status: string; x: number; y: number }>();
    for (const f of feats) {
      const id = String(f.properties?.['id'] ?? '');
      if (!id || seen.has(id) || f.geometry.type !== 'Point') continue;
      const [lng, lat] = f.geometry.coordinates as [number, number];
      const pt = map.project([lng, lat]);
      const mine = households.find((hh) => hh.id === id);
      const live = String(f.properties?.['status'] ?? 'unreached');
      const status = mine ? (statusOf(mine) === 'unreached' && CLOCK_STATUSES.includes(live) ? live : statusOf(mine)) : live;
      seen.set(id, { id, status, x: Math.round(pt.x), y: Math.round(pt.y) });
    }
    const list = [...seen.values()];
    canvasEl.dataset['rendered'] = JSON.stringify(list);
    let legendChanged = false;
    for (const r of list) {
      if (!shownStatuses.has(r.status)) {
        shownStatuses.add(r.status);
        legendChanged = true;
      }
    }
    if (legendChanged) renderLegend();
  }

  async function startMap(): Promise<void> {
    if (starting || map || failed) return;
    starting = true;
    canvasEl.dataset['mapState'] = 'loading';
    canvasEl.replaceChildren(h('p', { class: 'map-loading' }, t('map.loading')));
    try {
      const [mod, c] = await Promise.all([import('../../map/maplibre'), loadMapConfig(opts.api), ensureTileUser()]);
      if (disposed) return;
      config = c;
      renderTexts();
      canvasEl.replaceChildren();
      const style = mod.baseStyle(c);
      style.sources['hazards'] = {
        type: 'vector',
        tiles: [absoluteTiles(c.layers['hazard-zones'].tiles)],
        minzoom: 10,
        maxzoom: VECTOR_MAX_ZOOM,
      };
      style.sources['shelters'] = { type: 'vector', tiles: [absoluteTiles(c.layers.shelters.tiles)], minzoom: 10, maxzoom: VECTOR_MAX_ZOOM };
      style.sources['households'] = {
        type: 'vector',
        tiles: [absoluteTiles(c.layers.households.tiles, `?operation_id=${encodeURIComponent(opts.opId)}`)],
        minzoom: DOWNLOAD_MIN_ZOOM,
        maxzoom: VECTOR_MAX_ZOOM,
      };
      style.layers.push(
        {
          id: 'hazard-fill',
          type: 'fill',
          source: 'hazards',
          'source-layer': c.layers['hazard-zones'].source_layer,
          paint: { 'fill-color': '#b00020', 'fill-opacity': 0.12 },
        },
        {
          id: 'hazard-line',
          type: 'line',
          source: 'hazards',
          'source-layer': c.layers['hazard-zones'].source_layer,
          paint: { 'line-color': '#b00020', 'line-width': 2, 'line-dasharray': [2, 2] },
        },
        {
          id: 'shelters',
          type: 'symbol',
          source: 'shelters',
          'source-layer': c.layers.shelters.source_layer,
          layout: { 'icon-image': SHELTER_IMAGE, 'icon-allow-overlap': true },
        },
        {
          id: HOUSEHOLD_LAYER,
          type: 'symbol',
          source: 'households',
          'source-layer': c.layers.households.source_layer,
          layout: {
            // Mine: the walking-order number in the status shape; others: the status mark.
            'icon-image': [
              'coalesce',
              ['image', ['concat', 'hh-', ['get', 'id'], '-', ['get', 'status']]],
              ['image', ['concat', 'hh-', ['get', 'id']]],
              ['image', ['concat', 'st-', ['get', 'status']]],
              ['image', 'st-unreached'],
            ],
            'icon-allow-overlap': true,
            'icon-ignore-placement': true,
          },
        },
      );
      const b = boundsOf(located(), 60);
      const m = new mod.maplibregl.Map({
        container: canvasEl,
        style,
        attributionControl: false, // our own, larger attribution line below the map
        locale: mapLocale(),
        maxZoom: 19,
        ...(b
          ? { bounds: [[b.west, b.south], [b.east, b.north]] as [[number, number], [number, number]], fitBoundsOptions: { padding: 48, maxZoom: 18 } }
          : { center: mod.KASAMA_CENTER, zoom: 12 }),
      });
      map = m;
      // Tests find where a household is drawn through the element (as on the console's live map).
      Object.defineProperty(canvasEl, 'maplibre', { value: m, configurable: true });
      for (const s of LEGEND_STATUSES) addIcon(m, statusImage(s), drawIcon(statusLook(s), '', 2));
      addIcon(m, SHELTER_IMAGE, drawShelterIcon(2));
      syncHouseholdIcons();
      m.on('error', (ev: { sourceId?: string; error?: unknown }) => {
        // Offline tile failures are expected (the note already says so); online ones get a note.
        if (ev.sourceId && navigator.onLine && !tileErrors) {
          tileErrors = true;
          renderNotes();
        }
      });
      m.on('idle', () => {
        canvasEl.dataset['mapState'] = 'ready';
        publishRendered();
      });
      m.on('click', (ev: { point: { x: number; y: number } }) => {
        // A generous 48×48 px target around the finger: one of my households whose mark lies
        // under the finger opens; several (same or nearly the same place) open a list of them;
        // with none under it, the nearest in the target wins.
        const { x, y } = ev.point;
        const feats = m.queryRenderedFeatures(
          [
            [x - 24, y - 24],
            [x + 24, y + 24],
          ],
          { layers: [HOUSEHOLD_LAYER] },
        );
        const near = new Map<string, number>(); // id → squared distance (a feature may repeat across tiles)
        for (const f of feats) {
          const id = String(f.properties?.['id'] ?? '');
          if (!households.some((hh) => hh.id === id) || f.geometry.type !== 'Point') continue;
          const p = m.project(f.geometry.coordinates as [number, number]);
          const d = (p.x - x) ** 2 + (p.y - y) ** 2;
          near.set(id, Math.min(d, near.get(id) ?? Infinity));
        }
        const byDistance = [...near.entries()].sort((a, b) => a[1] - b[1]);
        const under = byDistance.filter(([, d]) => d <= UNDER_FINGER_PX ** 2).map(([id]) => id);
        if (under.length > 1) {
          const order = new Map(households.map((hh) => [hh.id, hh.order]));
          openPick(under.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0)));
        } else if (byDistance.length > 0) select(byDistance[0]![0]);
        else closePick(false);
      });
      // Only the user's own pan or zoom closes the list: a resize (rotating the phone, the keyboard,
      // a page capture) also fires movestart, and must not take the list from under their finger.
      m.on('movestart', (e) => {
        if ((e as { originalEvent?: Event }).originalEvent) closePick(false);
      });
    } catch (err) {
      console.warn('map unavailable', err);
      failed = true;
      canvasEl.dataset['mapState'] = 'failed';
      canvasEl.replaceChildren();
      renderNotes();
    } finally {
      starting = false;
    }
  }

  function viewButton(which: OpView, label: string): HTMLElement {
    const b = h('button', { type: 'button', class: view === which ? 'primary' : 'secondary', 'aria-pressed': view === which ? 'true' : 'false', 'data-view': which }, label);
    b.addEventListener('click', () => {
      if (view === which) return;
      view = which;
      opts.onChange();
      const pressed = document.querySelector<HTMLElement>(`[data-view="${which}"]`);
      pressed?.focus({ preventScroll: true });
      // The toggle to the top of the screen, so the map (or the list) below it is in view.
      if (which === 'map') pressed?.closest('.view-toggle')?.scrollIntoView({ block: 'start' });
    });
    return b;
  }

  return {
    get view() {
      return view;
    },
    toggle() {
      return h('div', { class: 'view-toggle', role: 'group', 'aria-label': t('map.views') }, viewButton('list', t('map.viewList')), viewButton('map', t('map.viewMap')));
    },
    mapView(data, fn) {
      households = data.households as Located[];
      statusOf = fn;
      renderTexts();
      if (!map && !failed) void startMap();
      else if (map) {
        syncHouseholdIcons();
        const m = map;
        requestAnimationFrame(() => m.resize());
      }
      if (!storage) void refreshStorage();
      return section;
    },
    dispose() {
      disposed = true;
      window.removeEventListener('online', onConnectivity);
      window.removeEventListener('offline', onConnectivity);
      if (download.kind === 'running') download.ctrl.abort();
      map?.remove();
      map = null;
    },
  };
}

/** The shelter mark: a teal square with a white roof shape (legend text says 避難所). */
function drawShelterIcon(ratio: number): HTMLCanvasElement | null {
  const surface = iconCanvas(ratio);
  if (!surface) return null;
  const { canvas, g, size } = surface;
  const pad = 5 * ratio;
  g.fillStyle = '#0b5d56';
  g.strokeStyle = '#ffffff';
  g.lineWidth = 2 * ratio;
  g.beginPath();
  g.rect(pad, pad, size - 2 * pad, size - 2 * pad);
  g.fill();
  g.stroke();
  g.fillStyle = '#ffffff';
  g.beginPath();
  const c = size / 2;
  g.moveTo(c, pad + 5 * ratio);
  g.lineTo(size - pad - 5 * ratio, c);
  g.lineTo(size - pad - 9 * ratio, c);
  g.lineTo(size - pad - 9 * ratio, size - pad - 5 * ratio);
  g.lineTo(pad + 9 * ratio, size - pad - 5 * ratio);
  g.lineTo(pad + 9 * ratio, c);
  g.lineTo(pad + 5 * ratio, c);
  g.closePath();
  g.fill();
  return canvas;
}
