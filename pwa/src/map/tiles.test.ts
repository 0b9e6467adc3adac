import { describe, expect, it } from 'vitest';
import { boundsOf, lngLatToTile, tilesForBounds, tileUrl } from './tiles';

describe('tile arithmetic', () => {
  it('finds the tile of a point (Kasama, checked against the OSM slippy-map formula)', () => {
    // 140.2593, 36.3746 at z14 is x 14575, y 6412 (the Kasama seed households).
    expect(lngLatToTile(140.2593, 36.3746, 14)).toEqual({ x: 14575, y: 6412 });
    expect(lngLatToTile(0, 0, 1)).toEqual({ x: 1, y: 1 });
    expect(lngLatToTile(-180, 85.0511, 0)).toEqual({ x: 0, y: 0 });
    expect(lngLatToTile(180, -90, 2)).toEqual({ x: 3, y: 3 });
  });

  it('widens the bounding box by a margin and ignores points without coordinates', () => {
    const b = boundsOf([{ lon: 140.25, lat: 36.37 }, { lon: 140.26, lat: 36.38 }, { lon: null, lat: null }], 111.32);
    expect(b).not.toBeNull();
    expect(b!.south).toBeCloseTo(36.369, 6);
    expect(b!.north).toBeCloseTo(36.381, 6);
    expect(b!.west).toBeLessThan(140.25);
    expect(b!.east).toBeGreaterThan(140.26);
    expect(boundsOf([])).toBeNull();
    expect(boundsOf([{ lon: undefined, lat: 3 }])).toBeNull();
  });

  it('lists every covering tile for each zoom, and the count grows about 4× per zoom', () => {
    const b = boundsOf([{ lon: 140.2589, lat: 36.3734 }, { lon: 140.2597, lat: 36.3751 }])!;
    const tiles = tilesForBounds(b, 13, 17);
    const perZoom = [13, 14, 15, 16, 17].map((z) => tiles.filter((t) => t.z === z).length);
    expect(perZoom[0]).toBeGreaterThanOrEqual(1);
    for (let i = 1; i < perZoom.length; i++) expect(perZoom[i]).toBeGreaterThanOrEqual(perZoom[i - 1]!);
    expect(new Set(tiles.map((t) => `${t.z}/${t.x}/${t.y}`)).size).toBe(tiles.length);
    // Each tile at z17 lies inside the z13 tile(s) of the same box.
    const z13 = tiles.filter((t) => t.z === 13);
    for (const t of tiles.filter((t) => t.z === 17)) {
      expect(z13.some((p) => p.x === t.x >> 4 && p.y === t.y >> 4)).toBe(true);
    }
  });

  it('fills URL templates', () => {
    expect(tileUrl('https://t.example/{z}/{x}/{y}.png', { z: 3, x: 5, y: 1 })).toBe('https://t.example/3/5/1.png');
    expect(tileUrl('https://{s}.t.example/{z}/{x}/{-y}.png', { z: 3, x: 5, y: 1 })).toBe('https://a.t.example/3/5/6.png');
  });
});
