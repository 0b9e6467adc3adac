// The map legend: each status with its marker and count, the area shades and the overlays.
import { t } from '../../i18n';
import { h } from '../../ui/dom';
import { statusMarker } from './dom';
import { BAND_KEYS } from './labels';
import type { LiveState } from './state';
import { foldCounts, RATE_STOPS, statusesFor, statusLabel } from './status';

export function renderLegend(legendEl: HTMLElement, state: LiveState): void {
  const kind = state.summary?.operation.kind;
  const counts = foldCounts(state.summary?.statuses ?? {}, kind);
  legendEl.replaceChildren(
    h('h2', {}, t('map.legend')),
    h('ul', { class: 'legend-list' },
      ...statusesFor(kind).map((s) =>
        h('li', { 'data-legend': s }, statusMarker(s), h('span', {}, statusLabel(s)),
          h('span', { class: 'legend-count', 'data-legend-count': s }, t('console.count', { count: counts[s] ?? 0 }))),
      ),
    ),
    h('ul', { class: 'legend-list legend-areas' },
      ...RATE_STOPS.map(([, color], i) =>
        h('li', {}, h('span', { class: 'swatch', style: `background:${color}` }), h('span', {}, t(BAND_KEYS[i]!))),
      ),
      h('li', {}, h('span', { class: 'swatch swatch-pocket' }), h('span', {}, t('map.pockets'))),
      h('li', {}, h('span', { class: 'swatch swatch-hazard' }), h('span', {}, t('console.legend.hazard'))),
      h('li', {}, h('span', { class: 'swatch swatch-shelter-open' }), h('span', {}, t('console.legend.shelterOpen'))),
      h('li', {}, h('span', { class: 'swatch swatch-shelter-closed' }), h('span', {}, t('console.legend.shelterClosed'))),
    ),
  );
}
