import * as Plot from '@observablehq/plot';
import { describe, expect, it } from 'vitest';
import { plot, PLOT_CLASS } from './plot';

describe('charts under the Content-Security-Policy', () => {
  it('carry no <style> element (style-src self refuses them) and the class styles.css styles', () => {
    const rows = [{ x: 0, y: 1, s: 'a' }, { x: 1, y: 2, s: 'b' }];
    // With a legend Plot returns a <figure>: both its chart and its legend wrote a <style>.
    const raw = Plot.plot({ color: { legend: true }, marks: [Plot.line(rows, { x: 'x', y: 'y', stroke: 's' })] });
    expect(raw.querySelectorAll('style').length).toBeGreaterThanOrEqual(2);
    const chart = plot({ color: { legend: true }, marks: [Plot.line(rows, { x: 'x', y: 'y', stroke: 's' })] }, '確認曲線');
    expect(chart.querySelectorAll('style')).toHaveLength(0);
    expect(chart.querySelector(`svg.${PLOT_CLASS}`)).not.toBeNull();
    expect(chart.querySelector(`.${PLOT_CLASS}-swatches`)).not.toBeNull();
    // One image with one name: the chart itself, none of Plot's inner labels.
    expect(chart.querySelector(`svg.${PLOT_CLASS}`)?.getAttribute('aria-label')).toBe('確認曲線');
    expect(chart.querySelectorAll('[aria-label]')).toHaveLength(1);
  });
});
