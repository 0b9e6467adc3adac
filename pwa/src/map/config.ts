import type { ApiClient } from '../api/client';
import type { LineLayerSpecification } from 'maplibre-gl';

/** `GET /api/map/config` (server/maps/config.py): the council's base map and our MVT layers. */
export interface MapConfig {
  basemap: { url: string; attribution: string; max_zoom: number } | null;
  layers: Record<'households' | 'districts' | 'shelters' | 'hazard-zones', { tiles: string; source_layer: string }>;
  household_point_min_zoom: number;
}

const STORAGE_KEY = 'tonari.mapConfig';

/** Our own vector layers as the server names them (the fallback when no config was ever served). */
export const OWN_LAYERS: MapConfig['layers'] = {
  households: { tiles: '/api/tiles/households/{z}/{x}/{y}.mvt', source_layer: 'households' },
  districts: { tiles: '/api/tiles/districts/{z}/{x}/{y}.mvt', source_layer: 'districts' },
  shelters: { tiles: '/api/tiles/shelters/{z}/{x}/{y}.mvt', source_layer: 'shelters' },
  'hazard-zones': { tiles: '/api/tiles/hazard-zones/{z}/{x}/{y}.mvt', source_layer: 'hazard_zones' },
};

/**
 * The server's answer, remembered for offline starts (it holds no personal data). Without
 * either, no base map: an honest blank background rather than a broken one.
 */
export async function loadMapConfig(api: ApiClient, storage: Storage | undefined = safeStorage()): Promise<MapConfig> {
  try {
    const config = await api.get<MapConfig>('/api/map/config');
    try {
      storage?.setItem(STORAGE_KEY, JSON.stringify(config));
    } catch {
      // Full or private storage: the next offline start just has no base map.
    }
    return config;
  } catch {
    const stored = storage?.getItem(STORAGE_KEY);
    if (stored) {
      try {
        return JSON.parse(stored) as MapConfig;
      } catch {
        // fall through
      }
    }
    return {
      basemap: null,
      layers: OWN_LAYERS,
      household_point_min_zoom: 13,
    };
  }
}

/** MapLibre wants absolute tile URLs. */
export function absoluteTiles(template: string, query = ''): string {
  return new URL(template, location.origin).href.replace(/%7B/g, '{').replace(/%7D/g, '}') + query;
}

function safeStorage(): Storage | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined;
  }
}

/** The district boundaries drawn over a map (areas heavier than branches): the console's live
 * map and the VC needs map alike, over the `districts` vector source of `config`. */
export function districtLinesLayer(config: MapConfig): LineLayerSpecification {
  return {
    id: 'districts-line',
    type: 'line',
    source: 'districts',
    'source-layer': config.layers.districts.source_layer,
    paint: { 'line-color': '#3d3d3d', 'line-width': ['match', ['get', 'level'], 'area', 2.5, 1] },
  };
}
