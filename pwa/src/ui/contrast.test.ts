// @vitest-environment node
// Reads the colour variables from styles.css and checks the text/background pairs
// the UI uses against WCAG 2.2 AA (4.5:1 for normal text).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const css = readFileSync(new URL('../styles.css', import.meta.url), 'utf8');
const vars = Object.fromEntries([...css.matchAll(/--([\w-]+):\s*(#[0-9a-fA-F]{6})\b/g)].map((m) => [m[1], m[2]]));

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

const TEXT_PAIRS: Array<[string, string]> = [
  ['fg', 'bg'],
  ['muted', 'bg'],
  ['on-primary', 'primary'], // header, primary buttons
  ['primary', 'bg'], // language toggle
  ['secondary-fg', 'secondary-bg'],
  ['error-fg', 'error-bg'],
  ['offline-fg', 'offline-bg'],
  // Outcome buttons and badges, the 110/119 buttons, the 【訓練】 banner.
  ['on-outcome', 'good'],
  ['on-outcome', 'neutral'],
  ['on-outcome', 'warn'],
  ['on-outcome', 'danger'],
  ['drill-fg', 'drill-bg'],
];

describe('colour contrast', () => {
  it('computes the known ratio for black on white', () => {
    expect(contrast('#000000', '#ffffff')).toBeCloseTo(21, 5);
  });

  it.each(TEXT_PAIRS)('--%s on --%s is at least 4.5:1', (fg, bg) => {
    expect(vars[fg], `--${fg} defined`).toBeDefined();
    expect(vars[bg], `--${bg} defined`).toBeDefined();
    expect(contrast(vars[fg]!, vars[bg]!)).toBeGreaterThanOrEqual(4.5);
  });

  it('input borders and the focus ring are at least 3:1 against the page (non-text)', () => {
    expect(contrast(vars['border']!, vars['bg']!)).toBeGreaterThanOrEqual(3);
    expect(contrast(vars['focus']!, vars['bg']!)).toBeGreaterThanOrEqual(3);
  });

  it('base font size is at least 18px', () => {
    const m = css.match(/:root\s*{[^}]*font-size:\s*([\d.]+)%/);
    expect(m).not.toBeNull();
    expect((16 * Number(m![1])) / 100).toBeGreaterThanOrEqual(18);
  });
});
