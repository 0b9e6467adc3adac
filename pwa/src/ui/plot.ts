import * as Plot from '@observablehq/plot';

/** The class of every chart; styles.css carries Plot's own default rules under it. */
export const PLOT_CLASS = 'tonari-plot';

/**
 * An Observable Plot chart that keeps to the app's Content-Security-Policy and reads as one image:
 * - Plot writes a <style> element into each chart and legend, which `style-src 'self'` refuses once
 *   the chart is on the page (a console error per chart, and the rules lost anyway). The chart gets
 *   a fixed class, its style elements are taken out before it is attached, and styles.css holds the
 *   same rules.
 * - Plot's labels on its inner groups are not allowed on a role-less <g> (axe: aria-prohibited-attr)
 *   and would be read out piecemeal: they go, and the chart (with a legend Plot returns a <figure>
 *   whose last <svg> is the chart) is one `img` named `label`.
 */
export function plot(options: Plot.PlotOptions, label: string): ReturnType<typeof Plot.plot> {
  const chart = Plot.plot({ ...options, className: PLOT_CLASS });
  for (const style of chart.querySelectorAll('style')) style.remove();
  const svgs = chart.tagName.toLowerCase() === 'svg' ? [chart] : [...chart.querySelectorAll('svg')];
  const main = svgs.at(-1) ?? chart;
  for (const el of chart.querySelectorAll('[aria-label], [aria-description]')) {
    el.removeAttribute('aria-label');
    el.removeAttribute('aria-description');
  }
  main.setAttribute('role', 'img');
  main.setAttribute('aria-label', label);
  return chart;
}
