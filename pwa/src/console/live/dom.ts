// Small DOM helpers of the live page.
import { STATUS_STYLES, type MapStatus } from './status';

/**
 * Rebuilds part of the screen without losing the keyboard user's place: live refreshes happen
 * several times a second, so the focused control (found again by its id) gets focus back.
 */
export function keepingFocus(container: HTMLElement, rebuild: () => void): void {
  const active = document.activeElement;
  const id = active instanceof HTMLElement && container.contains(active) ? active.id : '';
  rebuild();
  if (id) document.getElementById(id)?.focus();
}

/** Drops the absent parts of a conditional list of nodes. */
export function present(...nodes: Array<Node | null | undefined | false>): Node[] {
  return nodes.filter((n): n is Node => !!n);
}

/** A small SVG marker drawn with exactly the map's encoding (legend: shape, fill and ring). */
export function statusMarker(status: MapStatus): SVGSVGElement {
  const s = STATUS_STYLES[status];
  const NS = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('width', '28');
  svg.setAttribute('height', '28');
  svg.setAttribute('viewBox', '0 0 28 28');
  svg.setAttribute('aria-hidden', 'true');
  const c = document.createElementNS(NS, 'circle');
  c.setAttribute('cx', '14');
  c.setAttribute('cy', '14');
  c.setAttribute('r', String(s.radius));
  c.setAttribute('fill', s.fill ?? 'none');
  c.setAttribute('stroke', s.ring);
  c.setAttribute('stroke-width', String(s.ringWidth));
  svg.append(c);
  return svg;
}
