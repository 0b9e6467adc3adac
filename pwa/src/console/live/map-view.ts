import type { ApiClient } from '../../api/client';
import { absoluteTiles, districtLinesLayer, loadMapConfig, type MapConfig } from '../../map/config';
import { districtFillPaint, householdPaint, LIVE_STATUS } from './status';
import { mapLocale } from '../../map/locale';

/**
 * The live map of one operation: our vector tiles (districts shaded by confirmation rate,
 * households by status, shelters, hazard zones) and the watcher-less pockets (GeoJSON).
 * Live changes go into MapLibre feature-state keyed by household / district id (promoteId), so
 * no tile is re-fetched for a status change — that is what holds up at 100,000 households.
 */

type MapLibre = typeof import('../../map/maplibre');
type MlMap = InstanceType<MapLibre['maplibregl']['Map']>;

export interface MapFilters {
  districtId: string | null;
  /** Map statuses (already folded) to show; empty = all. */
  statuses: string[];
  /** Households matching the support-reason / hazard filter (server-side), or null = no such filter. */
  matchIds: Set<string> | null;
}

export interface LiveMap {
  map: MlMap;
  setHouseholdStatuses(changes: Map<string, string>): void;
  setDistrictRates(rates: Map<string, number | null>): void;
  setFilters(filters: MapFilters): void;
  setPockets(geojson: unknown): void;
  /** Re-fetches the household tiles (e.g. when the deadline passes and 'overdue' appears). */
  reloadHouseholds(): void;
  resize(): void;
  destroy(): void;
}

/** Paint-level visibility (filters cannot read feature-state; paint can). */
export function visibilityExpr(filters: Pick<MapFilters, 'statuses' | 'matchIds'>): unknown {
  const conds: unknown[] = [];
  if (filters.statuses.length > 0) {
    conds.push(['in', LIVE_STATUS, ['literal', [...filters.statuses]]]);
  }
  if (filters.matchIds !== null) conds.push(['boolean', ['feature-state', 'match'], false]);
  return conds.length === 0 ? true : ['all', ...conds];
}

export async function createLiveMap(
  container: HTMLElement,
  api: ApiClient,
  operationId: string,
  onHouseholdClick: (id: string, status: string | null) => void,
  onShelterClick: (props: Record<string, unknown>) => void,
): Promise<LiveMap> {
  const [{ maplibregl, baseStyle, KASAMA_CENTER }, config] = await Promise.all([import('../../map/maplibre'), loadMapConfig(api)]);
  const map = new maplibregl.Map({
    container,
    style: baseStyle(config),
    center: KASAMA_CENTER,
    zoom: 11,
    locale: mapLocale(),
    // Screenshots and tests read the canvas; a wall display does not need the extra cost anyway.
    canvasContextAttributes: { preserveDrawingBuffer: true },
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  // Tests and screenshots look at the rendered features through the element.
  Object.defineProperty(container, 'maplibre', { value: map, configurable: true });

  const hhLayer = config.layers.households.source_layer;
  const distLayer = config.layers.districts.source_layer;
  const pendingStatus = new Map<string, string>();
  let loaded = false;
  let matchIds: Set<string> | null = null;

  await new Promise<void>((resolve) => map.on('load', () => resolve()));
  addLayers(map, config, operationId);
  loaded = true;
  applyStatuses(pendingStatus);

  function applyStatuses(changes: Map<string, string>): void {
    for (const [id, status] of changes) map.setFeatureState({ source: 'households', sourceLayer: hhLayer, id }, { status });
  }

  map.on('click', 'households', (e) => {
    const f = e.features?.[0];
    const id = f?.properties?.['id'];
    if (typeof id !== 'string') return;
    const live = map.getFeatureState({ source: 'households', sourceLayer: hhLayer, id })['status'];
    const tile = f?.properties?.['status'];
    onHouseholdClick(id, typeof live === 'string' ? live : typeof tile === 'string' ? tile : null);
  });
  map.on('click', 'shelters', (e) => {
    const props = e.features?.[0]?.properties;
    if (props && !map.queryRenderedFeatures(e.point, { layers: ['households'] }).length) onShelterClick(props);
  });
  map.on('mouseenter', 'households', () => (map.getCanvas().style.cursor = 'pointer'));
  map.on('mouseleave', 'households', () => (map.getCanvas().style.cursor = ''));

  return {
    map,
    setHouseholdStatuses(changes) {
      if (!loaded) {
        for (const [k, v] of changes) pendingStatus.set(k, v);
        return;
      }
      applyStatuses(changes);
    },
    setDistrictRates(rates) {
      for (const [id, rate] of rates) map.setFeatureState({ source: 'districts', sourceLayer: distLayer, id }, { rate });
    },
    setFilters(filters) {
      map.setFilter('households', filters.districtId ? ['==', ['get', 'district_id'], filters.districtId] : null);
      if (matchIds !== null) map.removeFeatureState({ source: 'households', sourceLayer: hhLayer }, 'match');
      matchIds = filters.matchIds;
      if (matchIds) for (const id of matchIds) map.setFeatureState({ source: 'households', sourceLayer: hhLayer, id }, { match: true });
      const visible = visibilityExpr(filters);
      const paint = householdPaint();
      map.setPaintProperty('households', 'circle-opacity', ['case', visible, paint['circle-opacity'], 0] as never);
      map.setPaintProperty('households', 'circle-stroke-opacity', ['case', visible, 1, 0] as never);
    },
    setPockets(geojson) {
      const src = map.getSource('pockets') as { setData?: (d: unknown) => void } | undefined;
      src?.setData?.(geojson);
    },
    reloadHouseholds() {
      const src = map.getSource('households') as { setTiles?: (t: string[]) => void } | undefined;
      src?.setTiles?.([absoluteTiles(config.layers.households.tiles, `?operation_id=${encodeURIComponent(operationId)}`)]);
    },
    resize: () => map.resize(),
    destroy: () => map.remove(),
  };
}

function addLayers(map: MlMap, config: MapConfig, operationId: string): void {
  const tiles = (layer: keyof MapConfig['layers'], query = '') => [absoluteTiles(config.layers[layer].tiles, query)];
  map.addSource('hazards', { type: 'vector', tiles: tiles('hazard-zones'), minzoom: 8, maxzoom: 16 });
  map.addSource('districts', { type: 'vector', tiles: tiles('districts'), minzoom: 8, maxzoom: 16, promoteId: 'id' });
  map.addSource('shelters', { type: 'vector', tiles: tiles('shelters'), minzoom: 10, maxzoom: 16 });
  map.addSource('households', {
    type: 'vector',
    tiles: tiles('households', `?operation_id=${encodeURIComponent(operationId)}`),
    minzoom: 10,
    maxzoom: 16,
    promoteId: 'id',
  });
  map.addSource('pockets', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });

  map.addLayer({
    id: 'hazards',
    type: 'fill',
    source: 'hazards',
    'source-layer': config.layers['hazard-zones'].source_layer,
    paint: { 'fill-color': ['match', ['get', 'kind'], 'flood', '#6baed6', 'landslide', '#bf812d', '#969696'], 'fill-opacity': 0.3 },
  });
  map.addLayer({
    id: 'districts-fill',
    type: 'fill',
    source: 'districts',
    'source-layer': config.layers.districts.source_layer,
    paint: districtFillPaint() as never,
  });
  map.addLayer(districtLinesLayer(config));
  map.addLayer({
    id: 'pockets-fill',
    type: 'fill',
    source: 'pockets',
    filter: ['in', ['geometry-type'], ['literal', ['Polygon', 'MultiPolygon']]],
    paint: { 'fill-color': '#6a3d9a', 'fill-opacity': 0.15 },
  });
  map.addLayer({
    id: 'pockets-line',
    type: 'line',
    source: 'pockets',
    filter: ['in', ['geometry-type'], ['literal', ['Polygon', 'MultiPolygon']]],
    paint: { 'line-color': '#6a3d9a', 'line-width': 2, 'line-dasharray': [2, 1] },
  });
  map.addLayer({
    id: 'pockets-point',
    type: 'circle',
    source: 'pockets',
    filter: ['==', ['geometry-type'], 'Point'],
    paint: { 'circle-radius': 14, 'circle-color': '#6a3d9a', 'circle-opacity': 0.15, 'circle-stroke-color': '#6a3d9a', 'circle-stroke-width': 2 },
  });
  map.addLayer({
    id: 'shelters',
    type: 'circle',
    source: 'shelters',
    'source-layer': config.layers.shelters.source_layer,
    // Open: solid square-ish large marker; closed: small hollow one (size and fill, not colour alone).
    paint: {
      'circle-radius': ['case', ['to-boolean', ['get', 'is_open']], 9, 6],
      'circle-color': ['case', ['to-boolean', ['get', 'is_open']], '#0b5d56', '#ffffff'],
      'circle-stroke-color': '#0b5d56',
      'circle-stroke-width': ['case', ['to-boolean', ['get', 'is_open']], 3, 2],
    },
  });
  map.addLayer({
    id: 'households',
    type: 'circle',
    source: 'households',
    'source-layer': config.layers.households.source_layer,
    paint: householdPaint() as never,
  });
}
