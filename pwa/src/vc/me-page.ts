import { loadSession } from '../auth/session';
import { ApiError, NetworkError } from '../api/errors';
import { t } from '../i18n';
import { uuidv7 } from '../outbox/uuid';
import type { Page, PageFactory } from '../router';
import { h } from '../ui/dom';
import { problemText } from '../ui/problem-text';
import { vocabLabel } from '../vocab';
import { fullReturns, type MyDispatch } from './model';
import { sendReport, startReportQueue, type VcReport } from './report-queue';

/** `/vc/me`: the volunteer's phone — my team, where to go, what to bring, 110/119, the leader's report. */
export const mePage: PageFactory = (root, ctx) => {
  let mine: MyDispatch | null = null;
  let error: unknown = null;
  let notice = '';
  let disposed = false;
  const report = { outcome: 'done', people: '', hours: '', work_done: '', remaining: '', injuries: '0', near_misses: '' };
  // One client id per report, kept across retries so a resend is recognised (idempotent).
  let clientId = uuidv7();

  async function load(): Promise<void> {
    const session = await loadSession({ api: ctx.api });
    if (session.kind === 'signed-out') {
      ctx.navigate('/login', { replace: true });
      return;
    }
    try {
      mine = await ctx.api.get<MyDispatch>('/api/vc/me');
      if (mine.team && !report.people) report.people = String(mine.team.people);
      error = null;
    } catch (err) {
      error = err;
    }
    render();
  }

  async function send(): Promise<void> {
    if (!mine?.dispatch) return;
    const body: VcReport = {
      client_id: clientId,
      outcome: report.outcome as VcReport['outcome'],
      people: Number(report.people),
      hours: Number(report.hours),
      device_time: new Date().toISOString(),
      work_done: report.work_done || null,
      remaining: report.outcome === 'continued' ? report.remaining || null : null,
      injuries: Number(report.injuries || 0),
      near_misses: report.near_misses || null,
      returns: fullReturns(mine.dispatch.equipment),
    };
    error = null;
    const result = await sendReport(ctx, mine.dispatch.id, body);
    if (result === 'queued') notice = t('vc.report.queued');
    else if (result instanceof ApiError || result instanceof NetworkError) error = result;
    else {
      notice = t('vc.report.sent');
      clientId = uuidv7();
      await load();
    }
    render();
    root.querySelector<HTMLElement>(error ? '[role=alert]' : '[data-notice]')?.focus();
  }

  function reportForm(): HTMLElement | null {
    if (!mine?.dispatch || !mine.team) return null;
    if (mine.dispatch.state !== 'active') return h('p', {}, t('vc.report.alreadySent'));
    if (mine.team.leader_id !== mine.volunteer_id) return null;
    const field = (id: keyof typeof report, key: Parameters<typeof t>[0], type = 'text', inputmode?: string) => {
      const input = type === 'textarea' ? h('textarea', { id: `report-${id}`, rows: 2 }) : h('input', { id: `report-${id}`, type, inputmode, value: report[id] });
      if (input instanceof HTMLTextAreaElement) input.value = report[id];
      input.addEventListener('input', () => (report[id] = input.value));
      return h('div', { class: 'field' }, h('label', { for: `report-${id}` }, t(key)), input);
    };
    const outcome = h('fieldset', { class: 'check-list' }, h('legend', {}, t('vc.report.outcome')),
      ...(['done', 'continued'] as const).map((o) => {
        const r = h('input', { type: 'radio', name: 'report-outcome', id: `report-${o}`, value: o, checked: report.outcome === o });
        r.addEventListener('change', () => {
          report.outcome = o;
          render();
        });
        return h('div', { class: 'choice' }, r, h('label', { for: `report-${o}` }, t(o === 'done' ? 'vc.report.done' : 'vc.report.continued')));
      }));
    const form = h('form', { class: 'staff-form', 'data-report-form': 'true', 'aria-labelledby': 'report-title' },
      h('h2', { id: 'report-title' }, `${mine.label}${t('vc.report.title')}`),
      outcome,
      field('people', 'vc.report.people', 'number', 'numeric'),
      field('hours', 'vc.report.hours', 'number', 'decimal'),
      field('work_done', 'vc.report.workDone', 'textarea'),
      report.outcome === 'continued' ? field('remaining', 'vc.report.remaining', 'textarea') : null,
      field('injuries', 'vc.report.injuries', 'number', 'numeric'),
      field('near_misses', 'vc.report.nearMisses', 'textarea'),
      h('button', { type: 'submit', class: 'primary' }, t('vc.report.send')));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void send();
    });
    return form;
  }

  function render(): void {
    if (disposed) return;
    const need = mine?.need;
    const mapUrl = need ? `https://www.openstreetmap.org/?mlat=${need.lat}&mlon=${need.lon}#map=18/${need.lat}/${need.lon}` : '';
    root.replaceChildren(h('section', { class: 'vc-me', 'aria-labelledby': 'me-title' },
      h('h1', { id: 'me-title', tabindex: '-1' }, `${mine?.label ?? ''}${t('vc.me.title')}`),
      mine?.label ? h('p', { class: 'drill-banner', role: 'note', 'data-drill': 'true' }, t('vc.drill')) : null,
      notice ? h('p', { role: 'status', tabindex: '-1', 'data-notice': 'true' }, notice) : null,
      error ? h('div', { class: 'error', role: 'alert' }, h('p', {}, problemText(error))) : null,
      mine === null && !error ? h('p', { role: 'status' }, t('home.loading')) : null,
      mine && !mine.team ? h('p', {}, t('vc.me.none')) : null,
      mine?.team ? h('p', { 'data-team': mine.team.id }, t('vc.me.team', { name: mine.team.name, count: mine.team.people })) : null,
      need ? h('section', { 'aria-labelledby': 'where-title' },
        h('h2', { id: 'where-title' }, t('vc.me.where')),
        need.address ? h('p', { 'data-address': 'true' }, need.address) : h('p', {}, t('vc.me.hidden')),
        need.requester_name ? h('p', {}, need.requester_name) : null,
        need.phone ? h('p', {}, h('a', { href: `tel:${need.phone}`, class: 'button' }, need.phone)) : null,
        h('p', {}, h('a', { href: mapUrl, target: '_blank', rel: 'noopener', class: 'button' }, t('vc.me.map'))),
        h('h2', {}, t('vc.intake.work')),
        h('p', {}, need.work_types.map((w) => vocabLabel('vc_work_types', w)).join('、')),
        h('h2', {}, t('vc.me.bring')),
        h('ul', { 'data-bring': 'true' }, ...Object.entries(mine?.dispatch?.equipment ?? {}).map(([code, n]) => h('li', {}, `${vocabLabel('vc_equipment', code)} × ${n}`)),
          ...need.equipment.filter((code) => !(code in (mine?.dispatch?.equipment ?? {}))).map((code) => h('li', {}, vocabLabel('vc_equipment', code))))) : null,
      reportForm(),
      h('section', { class: 'vc-emergency', 'aria-labelledby': 'emergency-title' },
        h('h2', { id: 'emergency-title' }, t('vc.me.emergency')),
        h('p', { class: 'row-actions' },
          h('a', { href: 'tel:110', class: 'button', 'data-call': '110' }, t('op.call110')),
          ' ',
          h('a', { href: 'tel:119', class: 'button', 'data-call': '119' }, t('op.call119'))))));
  }

  render();
  void load();
  const stopQueue = startReportQueue(ctx, () => {
    notice = t('vc.report.sent');
    void load();
  });
  return {
    render,
    dispose() {
      stopQueue();
      disposed = true;
    },
  } satisfies Page;
};
