/**
 * The one place that loads MapLibre GL. Import it dynamically (`await import('../map/maplibre')`)
 * so the library (~250 KB gzipped) stays out of the initial bundle of the field app.
 */
import 'maplibre-gl/dist/maplibre-gl.css';
import * as maplibregl from 'maplibre-gl';
// Vite must see the worker as an asset, or a production build fails with "Worker failed to load".
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import type { StyleSpecification } from 'maplibre-gl';
import type { MapConfig } from './config';

maplibregl.setWorkerUrl(workerUrl);

export { maplibregl };

/** Kasama City: the view before any data says otherwise. */
export const KASAMA_CENTER: [number, number] = [140.304, 36.345];

/**
 * A style with only the background and (if configured) the raster base map. Callers add our
 * vector sources and layers on top. Offline with nothing cached, the raster tiles fail and the
 * plain background shows: honest, not a grey error grid.
 */
export function baseStyle(config: MapConfig): StyleSpecification {
  const style: StyleSpecification = {
    version: 8,
    sources: {},
    layers: [{ id: 'background', type: 'background', paint: { 'background-color': '#f4f1ea' } }],
  };
  if (config.basemap) {
    style.sources['basemap'] = {
      type: 'raster',
      tiles: [config.basemap.url],
      tileSize: 256,
      maxzoom: config.basemap.max_zoom,
      attribution: config.basemap.attribution,
    };
    style.layers.push({ id: 'basemap', type: 'raster', source: 'basemap' });
  }
  return style;
}
