import type { Geometry } from './operations-model';

type Ring = [number, number][];

/** The outer and inner rings of a Polygon / MultiPolygon (anything else: none). */
export function rings(geometry: Geometry | null | undefined): Ring[] {
  if (!geometry) return [];
  if (geometry.type === 'Polygon') return geometry.coordinates as Ring[];
  if (geometry.type === 'MultiPolygon') return (geometry.coordinates as Ring[][]).flat();
  return [];
}

export interface Projection {
  width: number;
  height: number;
  project(lon: number, lat: number): [number, number];
}

/**
 * A local equirectangular projection of the box around `points` into `width` units: fine at the
 * scale of a district (a few km), and keeps north up and distances true enough for paper.
 */
export function fitProjection(points: [number, number][], width = 1000, pad = 20): Projection {
  const lons = points.map((p) => p[0]);
  const lats = points.map((p) => p[1]);
  const minLon = Math.min(...lons);
  const maxLon = Math.max(...lons);
  const minLat = Math.min(...lats);
  const maxLat = Math.max(...lats);
  const k = Math.cos((((minLat + maxLat) / 2) * Math.PI) / 180);
  const spanX = Math.max((maxLon - minLon) * k, 1e-6);
  const spanY = Math.max(maxLat - minLat, 1e-6);
  const scale = (width - 2 * pad) / spanX;
  const height = Math.round(spanY * scale + 2 * pad);
  return {
    width,
    height,
    project: (lon, lat) => [pad + (lon - minLon) * k * scale, pad + (maxLat - lat) * scale],
  };
}

/** An SVG path (`M … Z`) for rings under a projection. */
export function ringsPath(rs: Ring[], proj: Projection): string {
  return rs
    .filter((r) => r.length > 2)
    .map((r) => 'M' + r.map(([lon, lat]) => proj.project(lon, lat).map((v) => v.toFixed(1)).join(',')).join('L') + 'Z')
    .join(' ');
}

/** The ids of a district and every district below it (households sit in the smallest one). */
export function subtreeIds(rootId: string, districts: readonly { id: string; parent_id: string | null }[]): string[] {
  const out = [rootId];
  for (let i = 0; i < out.length; i++) {
    for (const d of districts) if (d.parent_id === out[i] && !out.includes(d.id)) out.push(d.id);
  }
  return out;
}
