import { describe, expect, it } from 'vitest';
import { placeLabels } from './print-model';

const overlap = (a: { x: number; y: number; w: number; h: number }, b: typeof a) =>
  a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

describe('printed map numbers', () => {
  it('never overlap, even for a dense cluster of hundreds of households', () => {
    // 400 points within 60 × 60 units: all numbers would sit on each other beside their points.
    const pts: [number, number][] = Array.from({ length: 400 }, (_, i) => [500 + (i % 20) * 3, 300 + Math.floor(i / 20) * 3]);
    const texts = pts.map((_, i) => String(i + 1));
    const boxes = placeLabels(pts, texts, 12, 1000, 700);
    expect(boxes).toHaveLength(400);
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) expect(overlap(boxes[i]!, boxes[j]!), `${i + 1} and ${j + 1}`).toBe(false);
    }
    // Inside the map, and each number as near its point as the others allow (the first one right beside it).
    expect(boxes.every((b) => b.x >= 0 && b.y >= 0 && b.x + b.w <= 1000 && b.y + b.h <= 700)).toBe(true);
    expect(boxes[0]!.moved).toBe(false);
    expect(boxes.some((b) => b.moved)).toBe(true); // the crowd fans out, with leader lines
  });
});
