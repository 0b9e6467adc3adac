import type { District } from '../staff/operations-model';
import { errorBox, staffGate } from '../staff/shell';
import { t } from '../i18n';
import type { Page, PageFactory } from '../router';
import { appLink, h } from '../ui/dom';
import { DESK_ROLES } from './desk-page';
import { dailySheet, parseDay, type DailySheet, type SheetBreakdown, type SheetFigure } from './daily-sheet-model';
import { deskPath, type Centre, type Statistics } from './model';
import { runBackLink } from '../staff/drills/centre-links';

/**
 * `/staff/vc/:op/day/:day`: the A4 daily sheet (振り返り日報) of one VC day — volunteers, activities
 * and needs, by work type and district — printed for the evening meeting and the council's file.
 * Figures only (no personal data); a drill centre's sheet says 【訓練】 in its title and each table.
 */
export const dailySheetPage: PageFactory = (root, ctx, params = {}) => {
  const op = params['op'] ?? '';
  const day = parseDay(params['day']);
  let centre: Centre | null = null;
  let sheet: DailySheet | null = null;
  let error: unknown = null;
  let loaded = false;
  let role = '';
  let runLink: HTMLElement | null = null; // a drill centre: back to the run that opened it
  const printedAt = new Date();

  const gate = staffGate(root, ctx, '/staff/vc', 'vc.sheet.title', (user) => {
    role = user.role;
    void load();
  }, DESK_ROLES);

  async function load(): Promise<void> {
    try {
      if (day) {
        const base = `/api/vc/centres/${encodeURIComponent(op)}`;
        const [all, stats, districts] = await Promise.all([
          ctx.api.get<Centre[]>('/api/vc/centres/'),
          ctx.api.get<Statistics>(`${base}/statistics?from=${day}&to=${day}`),
          ctx.api.get<District[]>('/api/districts'),
        ]);
        centre = all.find((c) => c.operation_id === op) ?? null;
        if (centre?.label) runLink = await runBackLink(ctx, op, role);
        sheet = dailySheet(stats, day, new Map(districts.map((d) => [d.id, d.name])));
      }
    } catch (err) {
      error = err;
    }
    loaded = true;
    render();
  }

  function figures(caption: string, rows: SheetFigure[], attr: string): HTMLElement {
    return h('table', { class: 'print-table vc-sheet-figures', [attr]: 'true' },
      h('caption', {}, caption),
      h('tbody', {}, ...rows.map((f) => h('tr', { 'data-figure': f.key },
        h('th', { scope: 'row' }, t(f.label)),
        h('td', { class: 'number' }, f.value.toLocaleString('ja-JP'))))));
  }

  function breakdown(caption: string, head: string, rows: SheetBreakdown[], attr: string): HTMLElement {
    return h('table', { class: 'print-table vc-sheet-breakdown', [attr]: 'true' },
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, head), h('th', { scope: 'col', class: 'number' }, t('vc.sheet.colCount')))),
      h('tbody', {}, ...(rows.length
        ? rows.map((r) => h('tr', {}, h('th', { scope: 'row' }, r.label), h('td', { class: 'number' }, r.count.toLocaleString('ja-JP'))))
        : [h('tr', {}, h('td', { colspan: '2' }, t('vc.sheet.none')))])));
  }

  function page(c: Centre, s: DailySheet): HTMLElement {
    const printBtn = h('button', { type: 'button', class: 'primary no-print', 'data-action': 'print' }, t('staff.print.print'));
    printBtn.addEventListener('click', () => window.print());
    const date = new Date(`${s.day}T00:00:00`).toLocaleDateString('ja-JP', { dateStyle: 'full' });
    return h('div', { class: 'print-sheet vc-sheet', 'data-print-sheet': 'true', 'data-day': s.day },
      h('div', { class: 'actions no-print' }, printBtn, appLink(ctx, deskPath(op, 'stats'), t('vc.sheet.back'), { class: 'button secondary' })),
      s.label ? h('p', { class: 'drill-banner', role: 'note', 'data-drill': 'true' }, t('vc.drill')) : null,
      runLink,
      h('div', { class: 'print-head' },
        h('h2', { 'data-sheet-title': 'true' }, `${s.label}${c.name} ${t('vc.sheet.heading')}`),
        h('p', { class: 'nowrap', 'data-sheet-day': 'true' }, date),
        h('p', {}, t('staff.print.printedAt', { at: printedAt.toLocaleString('ja-JP', { dateStyle: 'long', timeStyle: 'short' }) }))),
      h('div', { class: 'vc-sheet-grid' },
        figures(`${s.label}${t('vc.sheet.people')}`, s.volunteers, 'data-sheet-volunteers'),
        figures(`${s.label}${t('vc.sheet.needs')}`, s.needs, 'data-sheet-needs')),
      h('div', { class: 'vc-sheet-grid' },
        breakdown(`${s.label}${t('vc.sheet.byWork')}`, t('vc.intake.work'), s.byWorkType, 'data-sheet-work'),
        breakdown(`${s.label}${t('vc.sheet.byDistrict')}`, t('common.district'), s.byDistrict, 'data-sheet-districts')),
      h('p', { class: 'hint' }, t('vc.sheet.note')),
      h('div', { class: 'vc-sheet-sign' }, h('p', {}, t('vc.sheet.checkedBy'))));
  }

  function render(): void {
    gate.render(() => {
      if (error) return [errorBox(error)];
      if (!loaded) return [h('p', { role: 'status' }, t('home.loading'))];
      if (!day || !centre || !sheet) return [h('p', { role: 'alert' }, t('vc.sheet.noDay'))];
      return [page(centre, sheet)];
    });
  }

  render();
  return { render, dispose: () => gate.dispose() } satisfies Page;
};
