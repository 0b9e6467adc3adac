import { describe, expect, it, vi } from 'vitest';
import { createApiClient } from '../api/client';
import { absoluteTiles, loadMapConfig, type MapConfig, OWN_LAYERS } from './config';

const served: MapConfig = {
  basemap: { url: 'https://tiles.example/{z}/{x}/{y}.png', attribution: 'x', max_zoom: 18 },
  layers: OWN_LAYERS,
  household_point_min_zoom: 13,
};

describe('map config', () => {
  it('remembers the served config and uses it when offline', async () => {
    localStorage.clear();
    const online = createApiClient({
      fetch: vi.fn(async () => new Response(JSON.stringify(served), { headers: { 'Content-Type': 'application/json' } })),
    });
    expect(await loadMapConfig(online)).toEqual(served);
    const offline = createApiClient({ fetch: vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))) });
    expect(await loadMapConfig(offline)).toEqual(served);
  });

  it('has no base map when it never reached the server', async () => {
    localStorage.clear();
    const offline = createApiClient({ fetch: vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))) });
    const config = await loadMapConfig(offline);
    expect(config.basemap).toBeNull();
    expect(config.layers.households.source_layer).toBe('households');
  });

  it('makes absolute tile templates with the braces intact', () => {
    expect(absoluteTiles('/api/tiles/households/{z}/{x}/{y}.mvt', '?operation_id=1')).toBe(
      `${location.origin}/api/tiles/households/{z}/{x}/{y}.mvt?operation_id=1`,
    );
  });
});
