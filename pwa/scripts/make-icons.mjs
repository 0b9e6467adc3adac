#!/usr/bin/env node
// Draws the app icons (two neighbouring houses — 隣) into public/icons/.
// Deterministic: re-running produces identical files, so the PNGs are committed
// and the build does not depend on running this. Run: npm run icons
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodePng } from './png.mjs';

const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'public', 'icons');

const THEME = [0x0b, 0x5d, 0x56];
const WHITE = [0xff, 0xff, 0xff];
const MINT = [0xc8, 0xe9, 0xe5];

// One house in unit coordinates: walls [x0,x1]×[eave,ground], roof apex above.
function house(x0, x1, apexY, eaveY, groundY, wall) {
  const cx = (x0 + x1) / 2;
  const over = (x1 - x0) * 0.12; // roof overhang
  const doorW = (x1 - x0) * 0.26;
  const doorTop = groundY - (groundY - eaveY) * 0.62;
  return (x, y) => {
    const inWalls = x >= x0 && x <= x1 && y >= eaveY && y <= groundY;
    const halfRoof = ((y - apexY) / (eaveY - apexY)) * ((x1 - x0) / 2 + over);
    const inRoof = y >= apexY && y <= eaveY && Math.abs(x - cx) <= halfRoof;
    if (!inWalls && !inRoof) return null;
    const inDoor = y >= doorTop && y <= groundY && Math.abs(x - cx) <= doorW / 2;
    return inDoor ? THEME : wall;
  };
}

const shapes = [house(0.1, 0.46, 0.2, 0.46, 0.8, WHITE), house(0.56, 0.9, 0.3, 0.52, 0.8, MINT)];

/** Colour at unit coords (u,v) of the icon; `scale` shrinks the artwork toward the centre. */
function sample(u, v, scale) {
  const x = (u - 0.5) / scale + 0.5;
  const y = (v - 0.5) / scale + 0.5;
  for (const shape of shapes) {
    const c = shape(x, y);
    if (c) return c;
  }
  return THEME;
}

function draw(size, scale) {
  const rgba = new Uint8Array(size * size * 4);
  const SS = 4; // 4×4 supersampling for smooth edges
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0, g = 0, b = 0;
      for (let sy = 0; sy < SS; sy++) {
        for (let sx = 0; sx < SS; sx++) {
          const c = sample((px + (sx + 0.5) / SS) / size, (py + (sy + 0.5) / SS) / size, scale);
          r += c[0]; g += c[1]; b += c[2];
        }
      }
      const i = (py * size + px) * 4;
      rgba[i] = Math.round(r / (SS * SS));
      rgba[i + 1] = Math.round(g / (SS * SS));
      rgba[i + 2] = Math.round(b / (SS * SS));
      rgba[i + 3] = 255; // opaque: iOS renders transparency as black
    }
  }
  return encodePng(size, size, rgba);
}

export const ICONS = [
  { file: 'icon-192.png', size: 192, scale: 0.9 },
  { file: 'icon-512.png', size: 512, scale: 0.9 },
  // Maskable: the platform may crop to a circle of 80 % diameter; keep art inside it.
  { file: 'maskable-512.png', size: 512, scale: 0.62 },
  { file: 'apple-touch-icon.png', size: 180, scale: 0.8 },
];

mkdirSync(OUT, { recursive: true });
for (const { file, size, scale } of ICONS) {
  const png = draw(size, scale);
  writeFileSync(join(OUT, file), png);
  console.log(`${file}: ${size}×${size}, ${png.length} bytes`);
}
