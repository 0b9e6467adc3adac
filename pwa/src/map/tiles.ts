/**
 * Web-Mercator tile arithmetic for "download my area": which {z}/{x}/{y} tiles cover the
 * bounding box of my households. Pure functions (unit-tested), no MapLibre import, so the
 * download can run without loading the map library.
 */

export interface LngLatBounds {
  west: number;
  south: number;
  east: number;
  north: number;
}

export interface TileXYZ {
  z: number;
  x: number;
  y: number;
}

const MAX_LAT = 85.0511287798066;

/** The tile that contains a point at zoom z (clamped to the valid range). */
export function lngLatToTile(lng: number, lat: number, z: number): { x: number; y: number } {
  const n = 2 ** z;
  const clampedLat = Math.max(-MAX_LAT, Math.min(MAX_LAT, lat));
  const rad = (clampedLat * Math.PI) / 180;
  const x = Math.floor(((lng + 180) / 360) * n);
  const y = Math.floor(((1 - Math.log(Math.tan(rad) + 1 / Math.cos(rad)) / Math.PI) / 2) * n);
  return { x: Math.max(0, Math.min(n - 1, x)), y: Math.max(0, Math.min(n - 1, y)) };
}

/**
 * The bounding box of points, widened by `marginMeters` on every side (a watcher walks a little
 * beyond the first and last door). Null when there are no usable points.
 */
export function boundsOf(points: ReadonlyArray<{ lon?: number | null; lat?: number | null }>, marginMeters = 150): LngLatBounds | null {
  const ok = points.filter(
    (p): p is { lon: number; lat: number } =>
      typeof p.lon === 'number' && typeof p.lat === 'number' && Number.isFinite(p.lon) && Number.isFinite(p.lat),
  );
  if (ok.length === 0) return null;
  let west = Infinity;
  let south = Infinity;
  let east = -Infinity;
  let north = -Infinity;
  for (const p of ok) {
    west = Math.min(west, p.lon);
    east = Math.max(east, p.lon);
    south = Math.min(south, p.lat);
    north = Math.max(north, p.lat);
  }
  const dLat = marginMeters / 111_320;
  const midLat = ((south + north) / 2) * (Math.PI / 180);
  const dLng = marginMeters / (111_320 * Math.max(0.01, Math.cos(midLat)));
  return { west: west - dLng, south: south - dLat, east: east + dLng, north: north + dLat };
}

/** Every tile covering `bounds` for zooms minZoom..maxZoom inclusive, low zooms first. */
export function tilesForBounds(bounds: LngLatBounds, minZoom: number, maxZoom: number): TileXYZ[] {
  const out: TileXYZ[] = [];
  for (let z = minZoom; z <= maxZoom; z++) {
    const a = lngLatToTile(bounds.west, bounds.north, z);
    const b = lngLatToTile(bounds.east, bounds.south, z);
    for (let x = Math.min(a.x, b.x); x <= Math.max(a.x, b.x); x++) {
      for (let y = Math.min(a.y, b.y); y <= Math.max(a.y, b.y); y++) out.push({ z, x, y });
    }
  }
  return out;
}

/** Fills a `{z}/{x}/{y}` template (also `{-y}` TMS and `{s}` → "a", which some tile servers use). */
export function tileUrl(template: string, t: TileXYZ): string {
  return template
    .replace(/\{z\}/g, String(t.z))
    .replace(/\{x\}/g, String(t.x))
    .replace(/\{y\}/g, String(t.y))
    .replace(/\{-y\}/g, String(2 ** t.z - 1 - t.y))
    .replace(/\{s\}/g, 'a');
}
