import * as Plot from '@observablehq/plot';

/** The class of every chart; styles.css carries Plot's own default rules under it. */
export const PLOT_CLASS = 'tonari-plot';

/**
 * An Observable Plot chart that keeps to the app's Content-Security-Policy: Plot writes a <style>
 * element into each chart and legend, which `style-src 'self'` refuses once the chart is on the
 * page (a console error per chart, and the rules lost anyway). The chart gets a fixed class, its
 * style elements are taken out before it is attached, and styles.css holds the same rules.
 */
export function plot(options: Plot.PlotOptions): ReturnType<typeof Plot.plot> {
  const chart = Plot.plot({ ...options, className: PLOT_CLASS });
  for (const style of chart.querySelectorAll('style')) style.remove();
  return chart;
}
