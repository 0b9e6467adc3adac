import { t } from '../i18n';
import type { Page, PageFactory } from '../router';
import { appLink, h } from '../ui/dom';
import { getAllPages } from './api';
import type { District } from './operations-model';
import { fitProjection, placeLabels, rings, ringsPath, subtreeIds } from './print-model';
import { errorBox, staffGate } from './shell';
import { VOCAB, vocabLabel } from '../vocab';

interface PrintPerson {
  id: string;
  name: string;
  kana: string;
  phone: string | null;
  support_reasons?: string[] | null;
}

interface PrintHousehold {
  id: string;
  address: string;
  lon: number;
  lat: number;
  location_approximate: boolean;
  people: PrintPerson[];
}

const SVG = 'http://www.w3.org/2000/svg';

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/**
 * `/staff/print/district/:id`: the paper fallback when phones fail — a district's households
 * (A4 portrait, Japanese) with a numbered map and blank outcome columns to fill in by hand.
 * The household list comes from `/api/households`, which applies the disclosure rule and
 * writes the read to the audit log.
 */
export const printDistrictPage: PageFactory = (root, ctx, params = {}) => {
  const id = params['id'] ?? '';
  let district: District | null = null;
  let households: PrintHousehold[] | null = null;
  let error: unknown = null;
  const printedAt = new Date();

  const gate = staffGate(root, ctx, '/staff/registry', 'staff.print.title', () => void load());

  async function load(): Promise<void> {
    try {
      const districts = await ctx.api.get<District[]>('/api/districts?geometry=true');
      district = districts.find((d) => d.id === id) ?? null;
      if (!district) throw new Error('not found');
      const q = subtreeIds(id, districts).map((d) => `district_id=${encodeURIComponent(d)}`).join('&');
      households = await getAllPages<PrintHousehold>(ctx.api, `/api/households?${q}`);
    } catch (err) {
      error = err;
    }
    render();
  }

  function mapSvg(d: District, list: PrintHousehold[]): SVGSVGElement {
    const rs = rings(d.geometry);
    const pts: [number, number][] = [...rs.flat(), ...list.map((x) => [x.lon, x.lat] as [number, number])];
    const proj = fitProjection(pts.length ? pts : [[140.3, 36.3], [140.31, 36.31]]);
    const root = svg('svg', { viewBox: `0 0 ${proj.width} ${proj.height}`, class: 'print-map', role: 'img', 'aria-label': t('staff.print.mapLabel', { name: d.name, count: list.length }) });
    root.append(svg('path', { d: ringsPath(rs, proj), fill: '#f2f2f2', stroke: '#000', 'stroke-width': 3, 'fill-rule': 'evenodd' }));
    // Many households: smaller marks so the numbers stay readable on paper.
    const r = list.length > 150 ? 4 : list.length > 50 ? 6 : 9;
    const font = list.length > 150 ? 10 : list.length > 50 ? 13 : 18;
    const at = list.map((x) => proj.project(x.lon, x.lat));
    const numbers = list.map((_, i) => String(i + 1));
    // Numbers on a grid of their own size: never on top of each other, with a leader line when moved.
    const boxes = placeLabels(at.map(([cx, cy]) => [cx + r, cy] as [number, number]), numbers, font, proj.width, proj.height);
    at.forEach(([cx, cy], i) => {
      const x = list[i]!;
      const b = boxes[i]!;
      root.append(svg('circle', { cx: cx.toFixed(1), cy: cy.toFixed(1), r, fill: x.location_approximate ? '#fff' : '#000', stroke: '#000', 'stroke-width': 1.5 }));
      if (b.moved) root.append(svg('line', { x1: cx.toFixed(1), y1: cy.toFixed(1), x2: (b.x + 1).toFixed(1), y2: (b.y + b.h / 2).toFixed(1), stroke: '#555', 'stroke-width': 0.8 }));
      root.append(svg('text', { x: (b.x + 1).toFixed(1), y: (b.y + b.h * 0.8).toFixed(1), 'font-size': font, 'font-weight': 700, 'data-label': numbers[i]! }, numbers[i]!));
    });
    return root;
  }

  function reasons(p: PrintPerson): string {
    return (p.support_reasons ?? []).map((c) => vocabLabel('support_reasons', c)).join('・');
  }

  function sheet(d: District, list: PrintHousehold[]): HTMLElement {
    const printBtn = h('button', { type: 'button', class: 'primary no-print', 'data-action': 'print' }, t('staff.print.print'));
    printBtn.addEventListener('click', () => window.print());
    // The sheet is for a safety check: its columns are that kind's outcomes, in the vocabulary's order.
    const outcomes = VOCAB.outcomes.safety_check.map((o) => vocabLabel('outcomes', o.code));
    const head = h(
      'div',
      { class: 'print-head' },
      h('p', { class: 'print-notice', 'data-notice': 'true' }, t('staff.print.confidential')),
      h('h2', {}, t('staff.print.heading', { name: d.name })),
      h('p', {}, t('staff.print.printedAt', { at: printedAt.toLocaleString('ja-JP', { dateStyle: 'long', timeStyle: 'short' }) })),
    );
    return h(
      'div',
      { class: 'print-sheet', 'data-print-sheet': 'true' },
      h('div', { class: 'actions no-print' }, printBtn, appLink(ctx, '/staff/registry', t('staff.print.back'), { class: 'button secondary' })),
      h('p', { class: 'hint no-print' }, t('staff.print.hint')),
      h('div', { class: 'print-map-page' }, head, mapSvg(d, list), h('p', { class: 'print-legend' }, t('staff.print.legend', { count: list.length }))),
      h(
        'table',
        { class: 'print-table', 'data-print-table': 'true' },
        h('caption', {}, t('staff.print.caption', { name: d.name })),
        h(
          'thead',
          {},
          // Repeated on every printed page with the header row: what this sheet is and how to treat it.
          h('tr', {}, h('th', { colspan: String(5 + outcomes.length), class: 'print-repeat' }, t('staff.print.repeat', { name: d.name, at: printedAt.toLocaleDateString('ja-JP') }))),
          h(
            'tr',
            {},
            h('th', { scope: 'col' }, t('staff.print.colNo')),
            h('th', { scope: 'col' }, t('staff.print.colName')),
            h('th', { scope: 'col' }, t('staff.print.colAddress')),
            h('th', { scope: 'col' }, t('staff.reg.reasons')),
            ...outcomes.map((o) => h('th', { scope: 'col', class: 'outcome-box' }, o)),
            h('th', { scope: 'col', class: 'memo' }, t('staff.print.colMemo')),
          ),
        ),
        h(
          'tbody',
          {},
          ...list.map((x, i) =>
            h(
              'tr',
              { 'data-household': x.id },
              h('td', {}, String(i + 1)),
              h('td', {}, ...x.people.flatMap((p, j) => [j ? h('br') : null, `${p.name}（${p.kana || '—'}）`])),
              h('td', {}, x.address, ...[...new Set(x.people.map((p) => p.phone).filter((p): p is string => !!p))].map((phone) => h('div', { class: 'phone', 'data-phone': '' }, `☎ ${phone}`))),
              h('td', {}, ...x.people.flatMap((p, j) => [j ? h('br') : null, reasons(p) || '—'])),
              ...outcomes.map(() => h('td', { class: 'outcome-box' }, '')),
              h('td', { class: 'memo' }, ''),
            ),
          ),
        ),
      ),
    );
  }

  function render(): void {
    gate.render(() => {
      if (error) return [errorBox(error)];
      if (!district || !households) return [h('p', { role: 'status' }, t('home.loading'))];
      return [sheet(district, households)];
    });
  }

  render();
  return { render, dispose: () => gate.dispose() } satisfies Page;
};
