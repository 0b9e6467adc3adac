import { loadSession } from '../auth/session';
import type { OutboxRow } from '../device-db/db';
import { cachedListNotices, fetchOrCached, type FetchedOrCached } from '../field/fetch-or-cached';
import { describeRecord } from '../field/refused';
import { t } from '../i18n';
import type { Page, PageFactory } from '../router';
import { appLink, h } from '../ui/dom';
import { rememberAfterUnlock, vaultFor } from '../vault/vault';
import { vocabLabel } from '../vocab';
import { fullReturns, myDispatchSource, otherCentres, reportNumbers, type MyDispatch } from './model';

const REFUSED = new Set(['dead', 'conflict']);

/**
 * `/vc/me`: the volunteer's phone — my team, where to go, what to bring, 110/119, the leader's
 * report. The report is a record like a visit: queued in the one outbox (sealed, kept across a
 * reload, sent when the connection is back, counted in 未送信), so it is never lost offline.
 */
export const mePage: PageFactory = (root, ctx) => {
  let mine: MyDispatch | null = null;
  let got: FetchedOrCached<MyDispatch> | null = null;
  let notice = '';
  /** The form's numbers could not be sent as typed. */
  let badNumbers = false;
  let disposed = false;
  /** The centre the volunteer switched to (a login may be a volunteer at several); null: the server's choice. */
  let chosen: string | null = null;
  const report = { outcome: 'done', people: '', hours: '', work_done: '', remaining: '', injuries: '0', near_misses: '' };
  /** This dispatch's report while it is on the device (waiting, or refused by the server). */
  let queued: OutboxRow | null = null;
  const outbox = ctx.outbox;

  async function load(): Promise<void> {
    const session = await loadSession({ api: ctx.api });
    if (session.kind === 'signed-out') {
      ctx.navigate('/login', { replace: true });
      return;
    }
    // The report's free text is sealed on the device: the page works only unlocked, like the field's.
    if (outbox && !vaultFor(outbox.db).unlocked) {
      rememberAfterUnlock('/vc/me');
      ctx.navigate('/pin', { replace: true });
      return;
    }
    // Kept sealed on the device: with no signal the leader still sees where to go and can report.
    const source = myDispatchSource(chosen);
    got = await fetchOrCached<MyDispatch>(ctx.api, outbox?.db, source.url, source.cacheKey);
    if (got.signedOut) {
      ctx.navigate('/login', { replace: true });
      return;
    }
    mine = got.value;
    if (mine?.team && !report.people) report.people = String(mine.team.people);
    await findQueued();
    render();
  }

  /** Looks for this dispatch's report in the outbox; one that left it was stored by the server. */
  async function findQueued(): Promise<void> {
    const dispatchId = mine?.dispatch?.id;
    if (!outbox || !dispatchId) return;
    const before = queued;
    const rows = await outbox.list(['pending', 'sending', 'failed', 'dead', 'conflict']);
    queued = rows.find((r) => r.payload.type === 'vc_report' && r.payload.dispatch_id === dispatchId) ?? null;
    if (before && !queued) {
      notice = t('vc.report.sent');
      await load();
    } else if (queued) {
      notice = REFUSED.has(queued.state) ? '' : t('vc.report.queued');
    }
  }

  async function send(): Promise<void> {
    if (!mine?.dispatch || !outbox) return;
    // Pressed again while one waits: the same record is sent again, never a second one.
    if (!queued) {
      const numbers = reportNumbers(report);
      badNumbers = numbers === null;
      if (numbers === null) {
        render();
        root.querySelector<HTMLElement>('[data-report-invalid]')?.focus();
        return;
      }
      queued = await outbox.enqueueReport({
        ...numbers,
        operation_id: mine.dispatch.operation_id,
        dispatch_id: mine.dispatch.id,
        label: mine.label,
        outcome: report.outcome === 'continued' ? 'continued' : 'done',
        returns: fullReturns(mine.dispatch.equipment),
        work_done: report.work_done,
        remaining: report.outcome === 'continued' ? report.remaining : '',
        near_misses: report.near_misses,
      });
      notice = t('vc.report.queued');
      render();
    }
    await outbox.retryNow();
    root.querySelector<HTMLElement>('[data-report-refused], [data-notice]')?.focus();
  }

  function refusal(): HTMLElement | null {
    if (!queued || !REFUSED.has(queued.state)) return null;
    const v = describeRecord(queued, new Map());
    return h('div', { class: 'error', role: 'alert', 'data-report-refused': 'true' },
      h('p', {}, v.why ?? ''),
      h('p', {}, appLink(ctx, '/outbox', t('vc.report.seeOutbox'), { class: 'button secondary' })));
  }

  function reportForm(): HTMLElement | null {
    if (!mine?.dispatch || !mine.team) return null;
    if (queued && REFUSED.has(queued.state)) return refusal();
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
      badNumbers ? h('div', { class: 'error', role: 'alert', tabindex: '-1', 'data-report-invalid': 'true' }, h('p', {}, t('vc.report.badNumbers'))) : null,
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

  /** The login's other centres: one answer is about one centre, so switching asks for the other. */
  function switcher(): HTMLElement | null {
    const others = otherCentres(mine);
    if (!others.length) return null;
    return h('section', { 'aria-labelledby': 'others-title', 'data-other-centres': 'true' },
      h('h2', { id: 'others-title' }, t('vc.me.otherCentres')),
      h('ul', {}, ...others.map((c) => {
        const b = h('button', { type: 'button', class: 'secondary', 'data-switch-centre': c.operation_id }, `${c.label}${c.name}`);
        b.addEventListener('click', () => {
          chosen = c.operation_id;
          mine = null;
          got = null;
          notice = '';
          queued = null;
          render();
          void load();
        });
        return h('li', {}, b);
      })));
  }

  function render(): void {
    if (disposed) return;
    const need = mine?.need;
    const mapUrl = need ? `https://www.openstreetmap.org/?mlat=${need.lat}&mlon=${need.lon}#map=18/${need.lat}/${need.lon}` : '';
    root.replaceChildren(h('section', { class: 'vc-me', 'aria-labelledby': 'me-title' },
      h('h1', { id: 'me-title', tabindex: '-1' }, `${mine?.label ?? ''}${t('vc.me.title')}`),
      mine?.label ? h('p', { class: 'drill-banner', role: 'note', 'data-drill': 'true' }, t('vc.drill')) : null,
      mine?.centre ? h('p', { 'data-me-centre': mine.operation_id ?? '' }, `${mine.label}${mine.centre}`) : null,
      ...(got ? cachedListNotices(got, 'vc.me.offline') : []),
      notice ? h('p', { role: 'status', tabindex: '-1', 'data-notice': 'true' }, notice) : null,
      mine === null && !got ? h('p', { role: 'status' }, t('home.loading')) : null,
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
      switcher(),
      h('section', { class: 'vc-emergency', 'aria-labelledby': 'emergency-title' },
        h('h2', { id: 'emergency-title' }, t('vc.me.emergency')),
        h('p', { class: 'row-actions' },
          h('a', { href: 'tel:110', class: 'button', 'data-call': '110' }, t('op.call110')),
          ' ',
          h('a', { href: 'tel:119', class: 'button', 'data-call': '119' }, t('op.call119'))))));
  }

  render();
  void load();
  // Every change of the outbox (sent, refused, queued in another tab) is read back here.
  const off = outbox?.subscribe(() => {
    if (mine) void findQueued().then(render).catch(() => undefined);
  });
  // Back online: the dispatch as the server has it now (reported, or another one).
  const onOnline = () => void load();
  window.addEventListener('online', onOnline);
  return {
    render,
    dispose() {
      window.removeEventListener('online', onOnline);
      off?.();
      disposed = true;
    },
  } satisfies Page;
};
