import type { ApiClient } from '../api/client';
import { t, type MessageKey } from '../i18n';
import { loadMapConfig } from '../map/config';
import { h } from '../ui/dom';
import { mapLocale } from '../map/locale';

export interface PolygonGeometry {
  type: 'Polygon';
  coordinates: [number, number][][];
}

/** The clicked points as a closed GeoJSON polygon, or null below three distinct points. */
export function ringToPolygon(points: readonly [number, number][]): PolygonGeometry | null {
  const distinct = points.filter((p, i) => i === 0 || p[0] !== points[i - 1]![0] || p[1] !== points[i - 1]![1]);
  if (distinct.length < 3) return null;
  const ring = distinct.map((p) => [Number(p[0].toFixed(6)), Number(p[1].toFixed(6))] as [number, number]);
  return { type: 'Polygon', coordinates: [[...ring, ring[0]!]] };
}

export interface PolygonPicker {
  element: HTMLElement;
  geometry(): PolygonGeometry | null;
  clear(): void;
  dispose(): void;
}

/**
 * "Draw the area on the map": click points, the polygon closes itself. A pointer-only aid beside
 * the district checkboxes (which stay the keyboard and screen-reader way to choose an area).
 * MapLibre loads only when the panel is opened.
 */
/** The texts that depend on what the drawn area is for (an operation's scope by default). */
export interface PolygonPickerLabels {
  open: MessageKey;
  hint: MessageKey;
  failed: MessageKey;
}

const OPERATION_LABELS: PolygonPickerLabels = { open: 'staff.poly.open', hint: 'staff.poly.hint', failed: 'staff.poly.failed' };

export function polygonPicker(api: ApiClient, idPrefix: string, labels: PolygonPickerLabels = OPERATION_LABELS): PolygonPicker {
  const points: [number, number][] = [];
  const status = h('p', { role: 'status', id: `${idPrefix}-status` }, t('staff.poly.empty'));
  const box = h('div', { class: 'staff-map', role: 'region', 'aria-label': t('staff.poly.mapLabel'), 'aria-describedby': `${idPrefix}-status` });
  const undo = h('button', { type: 'button', class: 'secondary' }, t('staff.poly.undo'));
  const clearBtn = h('button', { type: 'button', class: 'secondary' }, t('staff.poly.clear'));
  const details = h('details', { class: 'poly-picker' }, h('summary', {}, t(labels.open)), h('p', { class: 'hint' }, t(labels.hint)), box, status, h('div', { class: 'actions' }, undo, clearBtn));
  let map: { remove(): void; getSource(id: string): unknown } | null = null;

  function update(): void {
    const poly = ringToPolygon(points);
    status.textContent = poly ? t('staff.poly.ready', { n: points.length }) : points.length ? t('staff.poly.more', { n: points.length }) : t('staff.poly.empty');
    const src = map?.getSource('draw') as { setData(d: unknown): void } | undefined;
    src?.setData({
      type: 'FeatureCollection',
      features: [
        ...(poly ? [{ type: 'Feature', properties: {}, geometry: poly }] : []),
        ...points.map((p) => ({ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: p } })),
      ],
    });
  }

  undo.addEventListener('click', () => {
    points.pop();
    update();
  });
  clearBtn.addEventListener('click', () => {
    points.length = 0;
    update();
  });

  details.addEventListener('toggle', () => {
    if (!details.open || map) return;
    void (async () => {
      const [{ maplibregl, baseStyle, KASAMA_CENTER }, config] = await Promise.all([import('../map/maplibre'), loadMapConfig(api)]);
      const districts = await api.get<unknown>('/api/districts/geojson').catch(() => ({ type: 'FeatureCollection', features: [] }));
      const m = new maplibregl.Map({ container: box, style: baseStyle(config), center: KASAMA_CENTER, zoom: 10.5, attributionControl: { compact: true }, locale: mapLocale() });
      map = m;
      m.on('load', () => {
        m.addSource('districts', { type: 'geojson', data: districts as never });
        m.addLayer({ id: 'districts-line', type: 'line', source: 'districts', paint: { 'line-color': '#0b5d56', 'line-width': 1.5 } });
        m.addSource('draw', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
        m.addLayer({ id: 'draw-fill', type: 'fill', source: 'draw', filter: ['==', ['geometry-type'], 'Polygon'], paint: { 'fill-color': '#1a4fd6', 'fill-opacity': 0.25 } });
        m.addLayer({ id: 'draw-line', type: 'line', source: 'draw', filter: ['==', ['geometry-type'], 'Polygon'], paint: { 'line-color': '#1a4fd6', 'line-width': 3 } });
        m.addLayer({ id: 'draw-points', type: 'circle', source: 'draw', filter: ['==', ['geometry-type'], 'Point'], paint: { 'circle-radius': 6, 'circle-color': '#1a4fd6', 'circle-stroke-color': '#fff', 'circle-stroke-width': 2 } });
        update();
        box.dataset['ready'] = 'true';
      });
      m.on('click', (ev) => {
        points.push([ev.lngLat.lng, ev.lngLat.lat]);
        update();
      });
    })().catch((err: unknown) => {
      console.warn('polygon map', err);
      status.textContent = t(labels.failed);
    });
  });

  return {
    element: details,
    geometry: () => ringToPolygon(points),
    clear: () => {
      points.length = 0;
      update();
    },
    dispose: () => map?.remove(),
  };
}
