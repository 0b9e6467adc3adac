import type { ApiClient } from '../api/client';
import { absoluteTiles, districtLinesLayer, loadMapConfig } from './config';
import { mapLocale } from './locale';
import { needMapAction, needsPaint, needsTileUrl } from './vc-needs-model';

/**
 * The map of one volunteer centre's needs (console and desk): the needs tiles coloured by state,
 * over the district lines and the centre's base. A `vc.need` event recolours a need at once
 * (feature-state keyed by need id); a new need re-fetches the tiles. The container carries
 * `data-needs="loaded"` and `data-need-count` once the needs source has loaded (tests wait on it).
 */

type MapLibre = typeof import('./maplibre');
type MlMap = InstanceType<MapLibre['maplibregl']['Map']>;

export const NEEDS_SOURCE_LAYER = 'vc_needs';

export interface NeedsMap {
  map: MlMap;
  onNeedEvent(event: Readonly<Record<string, unknown>>): void;
  resize(): void;
  destroy(): void;
}

export async function createNeedsMap(
  container: HTMLElement,
  api: ApiClient,
  operationId: string,
  centre: { lon: number; lat: number },
  onNeedClick: (props: Record<string, unknown>) => void = () => undefined,
): Promise<NeedsMap> {
  const [{ maplibregl, baseStyle }, config] = await Promise.all([import('./maplibre'), loadMapConfig(api)]);
  const map = new maplibregl.Map({
    container,
    style: baseStyle(config),
    center: [centre.lon, centre.lat],
    zoom: 13,
    locale: mapLocale(),
    canvasContextAttributes: { preserveDrawingBuffer: true },
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  Object.defineProperty(container, 'maplibre', { value: map, configurable: true });
  await new Promise<void>((resolve) => map.on('load', () => resolve()));

  const needsUrl = needsTileUrl(location.origin, operationId);
  map.addSource('districts', { type: 'vector', tiles: [absoluteTiles(config.layers.districts.tiles)], minzoom: 8, maxzoom: 16 });
  map.addSource('needs', { type: 'vector', tiles: [needsUrl], minzoom: 8, maxzoom: 16, promoteId: 'id' });
  map.addSource('centre', { type: 'geojson', data: { type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: [centre.lon, centre.lat] } } });
  map.addLayer(districtLinesLayer(config));
  map.addLayer({
    id: 'centre',
    type: 'circle',
    source: 'centre',
    paint: { 'circle-radius': 11, 'circle-color': '#ffffff', 'circle-stroke-color': '#0b5d56', 'circle-stroke-width': 4 },
  });
  map.addLayer({ id: 'needs', type: 'circle', source: 'needs', 'source-layer': NEEDS_SOURCE_LAYER, paint: needsPaint() as never });
  container.dataset['ready'] = 'true';

  function knownIds(): Set<string> {
    const ids = new Set<string>();
    for (const f of map.querySourceFeatures('needs', { sourceLayer: NEEDS_SOURCE_LAYER })) {
      const id = f.properties?.['id'];
      if (typeof id === 'string') ids.add(id);
    }
    return ids;
  }

  // The test signal: once the needs tiles in view have loaded (again), how many needs they hold.
  map.on('idle', () => {
    if (!map.isSourceLoaded('needs')) return;
    container.dataset['needCount'] = String(knownIds().size);
    container.dataset['needs'] = 'loaded';
  });
  map.on('click', 'needs', (e) => {
    const props = e.features?.[0]?.properties;
    if (!props) return;
    const id = props['id'];
    const live = typeof id === 'string' ? map.getFeatureState({ source: 'needs', sourceLayer: NEEDS_SOURCE_LAYER, id })['state'] : undefined;
    onNeedClick({ ...props, ...(typeof live === 'string' ? { state: live } : {}) });
  });
  map.on('mouseenter', 'needs', () => (map.getCanvas().style.cursor = 'pointer'));
  map.on('mouseleave', 'needs', () => (map.getCanvas().style.cursor = ''));

  return {
    map,
    onNeedEvent(event) {
      const action = needMapAction(knownIds(), event);
      if (action.kind === 'state') {
        map.setFeatureState({ source: 'needs', sourceLayer: NEEDS_SOURCE_LAYER, id: action.id }, { state: action.state });
      } else if (action.kind === 'reload') {
        // The tiles are fresher than any state set so far: forget those, then fetch (revalidated by ETag).
        map.removeFeatureState({ source: 'needs', sourceLayer: NEEDS_SOURCE_LAYER });
        delete container.dataset['needs'];
        const src = map.getSource('needs') as { setTiles?: (t: string[]) => void } | undefined;
        src?.setTiles?.([needsUrl]);
      }
    },
    resize: () => map.resize(),
    destroy: () => map.remove(),
  };
}
