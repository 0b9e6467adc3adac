/**
 * How a household's status looks on the map: colour AND shape AND (in the legend) text, never
 * colour alone. The same colours as the list's outcome badges (styles.css), so a watcher learns
 * one vocabulary. Icons are drawn on a canvas (no glyph server needed: works offline).
 */
import { outcomeLabel, OUTCOME_TONE } from './model';
import { t } from '../i18n';

export type Shape = 'circle' | 'square' | 'triangle' | 'diamond' | 'ring' | 'house';

export interface StatusLook {
  shape: Shape;
  fill: string;
  stroke: string;
  text: string;
  /** Drawn when there is no walking-order number (other households, legend). */
  mark: string;
}

const TONE_LOOK: Record<'good' | 'neutral' | 'warn' | 'danger', StatusLook> = {
  good: { shape: 'circle', fill: '#1d6b2f', stroke: '#ffffff', text: '#ffffff', mark: '✓' },
  neutral: { shape: 'square', fill: '#4a4a4a', stroke: '#ffffff', text: '#ffffff', mark: '?' },
  warn: { shape: 'triangle', fill: '#8a4b00', stroke: '#ffffff', text: '#ffffff', mark: '!' },
  danger: { shape: 'diamond', fill: '#b00020', stroke: '#ffffff', text: '#ffffff', mark: '!!' },
};

const UNREACHED: StatusLook = { shape: 'ring', fill: '#ffffff', stroke: '#1b1b1b', text: '#1b1b1b', mark: '' };
const OVERDUE: StatusLook = { shape: 'ring', fill: '#fdecee', stroke: '#b00020', text: '#9b0016', mark: '!' };
/** 避難済: safe too, but somewhere else — a blue house, not the green circle of 無事 (#17). */
const EVACUATED: StatusLook = { shape: 'house', fill: '#1a4fd6', stroke: '#ffffff', text: '#ffffff', mark: '避' };
/** 遅延: no report yet, past the operation's first-report target (before it is overdue). */
const LATE: StatusLook = { shape: 'ring', fill: '#fff4e0', stroke: '#8a4b00', text: '#6b3a00', mark: '遅' };

/** Statuses in the order the legend lists them. */
export const LEGEND_STATUSES = ['unreached', 'late', 'overdue', 'safe', 'ok', 'evacuated', 'away', 'unknown', 'contact', 'injured', 'emergency', 'rescue'] as const;

export function statusLook(status: string): StatusLook {
  if (status === 'overdue') return OVERDUE;
  if (status === 'late') return LATE;
  if (status === 'evacuated') return EVACUATED;
  const tone = OUTCOME_TONE[status];
  return tone ? TONE_LOOK[tone] : UNREACHED;
}

/** A legend entry's words: the map's own overdue / late, else the outcome (vocabulary) or 未訪問. */
export function statusLabel(status: string): string {
  if (status === 'overdue') return t('map.status.overdue');
  if (status === 'late') return t('map.status.late');
  return outcomeLabel(status);
}

/** Image name for a status (features that are not one of my numbered households). */
export const statusImage = (status: string): string => `st-${status}`;
/** Image name for one of my households (number + status). */
export const householdImage = (id: string): string => `hh-${id}`;

export const ICON_CSS_PX = 40;

/** A square canvas of one map icon (ICON_CSS_PX at `ratio`), or null without canvas 2D. */
export function iconCanvas(ratio: number): { canvas: HTMLCanvasElement; g: CanvasRenderingContext2D; size: number } | null {
  const size = ICON_CSS_PX * ratio;
  const canvas = document.createElement('canvas');
  canvas.width = size;
  canvas.height = size;
  const g = canvas.getContext('2d');
  return g ? { canvas, g, size } : null;
}

/**
 * Draws one icon into a canvas (device pixel ratio `ratio`). Returns null where canvas 2D is
 * unavailable (tests, very old browsers): the caller then falls back to plain circles.
 */
export function drawIcon(look: StatusLook, label: string, ratio = 2): HTMLCanvasElement | null {
  const surface = iconCanvas(ratio);
  if (!surface) return null;
  const { canvas, g, size } = surface;
  const c = size / 2;
  const r = size / 2 - 3 * ratio;
  g.lineWidth = 3 * ratio;
  g.fillStyle = look.fill;
  g.strokeStyle = look.shape === 'ring' ? look.stroke : '#ffffff';
  g.beginPath();
  switch (look.shape) {
    case 'circle':
    case 'ring':
      g.arc(c, c, r, 0, Math.PI * 2);
      break;
    case 'square':
      g.rect(c - r * 0.85, c - r * 0.85, r * 1.7, r * 1.7);
      break;
    case 'triangle':
      g.moveTo(c, c - r);
      g.lineTo(c + r, c + r * 0.8);
      g.lineTo(c - r, c + r * 0.8);
      g.closePath();
      break;
    case 'house':
      g.moveTo(c, c - r);
      g.lineTo(c + r, c - r * 0.1);
      g.lineTo(c + r * 0.8, c - r * 0.1);
      g.lineTo(c + r * 0.8, c + r * 0.85);
      g.lineTo(c - r * 0.8, c + r * 0.85);
      g.lineTo(c - r * 0.8, c - r * 0.1);
      g.lineTo(c - r, c - r * 0.1);
      g.closePath();
      break;
    case 'diamond':
      g.moveTo(c, c - r);
      g.lineTo(c + r, c);
      g.lineTo(c, c + r);
      g.lineTo(c - r, c);
      g.closePath();
      break;
  }
  g.fill();
  g.stroke();
  if (look.shape === 'ring') {
    // A second, dark outline so a white ring stays visible on a light base map.
    g.lineWidth = 1.5 * ratio;
    g.strokeStyle = '#ffffff';
    g.beginPath();
    g.arc(c, c, r + 2 * ratio, 0, Math.PI * 2);
    g.stroke();
  }
  const text = label || look.mark;
  if (text) {
    g.fillStyle = look.text;
    const px = (text.length > 2 ? 13 : 16) * ratio;
    g.font = `700 ${px}px system-ui, sans-serif`;
    g.textAlign = 'center';
    g.textBaseline = 'middle';
    g.fillText(text, c, look.shape === 'triangle' || look.shape === 'house' ? c + r * 0.25 : c + ratio);
  }
  return canvas;
}
