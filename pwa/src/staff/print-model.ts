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

export interface LabelBox {
  /** Top-left corner and size of the label's box, in SVG units. */
  x: number;
  y: number;
  w: number;
  h: number;
  /** True when the label sits away from its point (drawn with a leader line). */
  moved: boolean;
}

/**
 * Places one number label per point so that no two labels overlap (#17: the printed map had
 * numbers on top of each other). Labels live on a grid of label-sized cells: each takes the free
 * cell nearest its point (searched ring by ring outwards), so a dense cluster fans out instead of
 * piling up; labels far from their point get a leader line. Deterministic and O(n·k).
 */
export function placeLabels(points: readonly [number, number][], texts: readonly string[], font: number, width: number, height: number): LabelBox[] {
  // Cells as large as the glyphs' boxes really are (bold digits; CJK fonts' tall ascent + descent).
  const cw = Math.ceil(font * 0.7 * Math.max(1, ...texts.map((t) => t.length))) + 3;
  const ch = Math.ceil(font * 1.5);
  const cols = Math.max(1, Math.floor(width / cw));
  const rows = Math.max(1, Math.floor(height / ch));
  const taken = new Set<number>();
  const out: LabelBox[] = [];
  for (const [px, py] of points) {
    // The cell just right of the point is the natural place.
    const c0 = Math.min(cols - 1, Math.max(0, Math.floor((px + 3) / cw)));
    const r0 = Math.min(rows - 1, Math.max(0, Math.floor((py - ch / 2) / ch)));
    let found: [number, number] | null = null;
    for (let ring = 0; !found && ring <= Math.max(cols, rows); ring++) {
      let best: [number, number] | null = null;
      let bestD = Infinity;
      for (let dr = -ring; dr <= ring; dr++) {
        for (let dc = -ring; dc <= ring; dc++) {
          if (Math.max(Math.abs(dr), Math.abs(dc)) !== ring) continue;
          const r = r0 + dr;
          const c = c0 + dc;
          if (r < 0 || c < 0 || r >= rows || c >= cols || taken.has(r * cols + c)) continue;
          const d = Math.hypot(c * cw + cw / 2 - px, r * ch + ch / 2 - py);
          if (d < bestD) {
            bestD = d;
            best = [r, c];
          }
        }
      }
      found = best;
    }
    if (!found) {
      // More labels than cells: impossible at the sizes the page uses (caller shrinks the font first).
      out.push({ x: px, y: py - ch / 2, w: cw, h: ch, moved: false });
      continue;
    }
    const [r, c] = found;
    taken.add(r * cols + c);
    out.push({ x: c * cw, y: r * ch, w: cw, h: ch, moved: Math.abs(r - r0) + Math.abs(c - c0) > 1 });
  }
  return out;
}
