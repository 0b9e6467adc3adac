// @vitest-environment node
// The committed icons must be valid PNGs of the sizes the manifest promises.
import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- plain .mjs helper without type declarations
import { crc32 } from './png.mjs';

function parsePng(buf: Buffer) {
  expect([...buf.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const chunks: Array<{ type: string; data: Buffer }> = [];
  let off = 8;
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('ascii', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    expect(buf.readUInt32BE(off + 8 + len), `${type} CRC`).toBe((crc32 as (b: Buffer) => number)(buf.subarray(off + 4, off + 8 + len)));
    chunks.push({ type, data });
    off += 12 + len;
  }
  return chunks;
}

describe.each([
  ['icon-192.png', 192],
  ['icon-512.png', 512],
  ['maskable-512.png', 512],
  ['apple-touch-icon.png', 180],
])('%s', (file, size) => {
  it(`is a valid ${size}×${size} RGBA PNG`, () => {
    const chunks = parsePng(readFileSync(new URL(`../public/icons/${file}`, import.meta.url)));
    expect(chunks[0]!.type).toBe('IHDR');
    expect(chunks.at(-1)!.type).toBe('IEND');
    const ihdr = chunks[0]!.data;
    expect(ihdr.readUInt32BE(0)).toBe(size);
    expect(ihdr.readUInt32BE(4)).toBe(size);
    expect(ihdr[8]).toBe(8);
    expect(ihdr[9]).toBe(6);
    const raw = inflateSync(Buffer.concat(chunks.filter((c) => c.type === 'IDAT').map((c) => c.data)));
    expect(raw.length).toBe((size * 4 + 1) * size);
  });
});
