import type { ApiClient } from '../api/client';
import { t } from '../i18n';
import { loadMapConfig } from '../map/config';
import { h } from '../ui/dom';
import { mapLocale } from '../map/locale';

export interface PointPicker {
  element: HTMLElement;
  dispose(): void;
}

/**
 * "Choose the position on a map": one click gives a longitude/latitude to `onPick`. A pointer aid
 * beside the typed latitude/longitude fields (which stay the keyboard and screen-reader way).
 * MapLibre loads only when the panel is opened.
 */
export function pointPicker(api: ApiClient, idPrefix: string, onPick: (lon: number, lat: number) => void): PointPicker {
  const hint = h('p', { class: 'hint', id: `${idPrefix}-hint` }, t('staff.reg.pickPointHint'));
  const box = h('div', { class: 'staff-map', role: 'region', 'aria-label': t('staff.reg.pickPointMap'), 'aria-describedby': `${idPrefix}-hint` });
  const details = h('details', { class: 'point-picker' }, h('summary', {}, t('staff.reg.pickPoint')), hint, box);
  let map: { remove(): void } | null = null;

  details.addEventListener('toggle', () => {
    if (!details.open || map) return;
    void (async () => {
      const [{ maplibregl, baseStyle, KASAMA_CENTER }, config] = await Promise.all([import('../map/maplibre'), loadMapConfig(api)]);
      const m = new maplibregl.Map({ container: box, style: baseStyle(config), center: KASAMA_CENTER, zoom: 11, attributionControl: { compact: true }, locale: mapLocale() });
      map = m;
      m.on('load', () => {
        m.addSource('pick', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
        m.addLayer({ id: 'pick-point', type: 'circle', source: 'pick', paint: { 'circle-radius': 8, 'circle-color': '#1a4fd6', 'circle-stroke-color': '#fff', 'circle-stroke-width': 2 } });
        box.dataset['ready'] = 'true';
      });
      m.on('click', (ev) => {
        const lon = Number(ev.lngLat.lng.toFixed(6));
        const lat = Number(ev.lngLat.lat.toFixed(6));
        (m.getSource('pick') as { setData(d: unknown): void } | undefined)?.setData({ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: [lon, lat] } });
        onPick(lon, lat);
      });
    })().catch((err: unknown) => {
      console.warn('point map', err);
      hint.textContent = t('staff.reg.pickFailed');
    });
  });

  return { element: details, dispose: () => map?.remove() };
}
