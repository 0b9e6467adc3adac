import type { User } from '../api/types';
import { VC_DESK_ROLES } from '../auth/landing';
import { openLiveStream, type LiveStream } from '../console/live/stream';
import { t, type MessageKey } from '../i18n';
import type { Page, PageFactory } from '../router';
import { checkboxes, selectField, textField } from '../staff/forms';
import { pointPicker, type PointPicker } from '../staff/point-picker';
import { errorBox, staffGate } from '../staff/shell';
import { appLink, h } from '../ui/dom';
import { fieldProblemTexts } from '../ui/problem-text';
import { uuidv7 } from '../outbox/uuid';
import { vocabCodes, vocabLabel, type ListKind } from '../vocab';
import {
  boardColumns,
  applyNeedEvent,
  deskPath,
  DESK_STEPS,
  equipmentLines,
  fullReturns,
  isDeskStep,
  peopleOf,
  returnLines,
  STEP_LABEL,
  tokenFromScan,
  unassigned,
  type Centre,
  type DeskStep,
  type Dispatch,
  type Duplicate,
  type EquipmentRow,
  type Need,
  type Statistics,
  type Team,
  type TeamSuggestions,
  type Volunteer,
} from './model';
import { intakeLocation, locationBody, pickedFields } from './intake-location';
import { createNeedsMap, type NeedsMap } from '../map/vc-needs';
import { needsLegend, needSummary } from '../ui/vc-needs-legend';
import { dailySheetPath } from './daily-sheet-model';
import { startScanner, type Scanner } from './scanner';
import { runBackLink } from '../staff/drills/centre-links';
import { joinLinkState, posterPath, qrSource, type JoinLink } from './join-link';

/** Who may run the desk: the council's staff and the lent helpers (decision 0025). */
export const DESK_ROLES: ReadonlySet<string> = VC_DESK_ROLES;
// Every desk role reads the event stream: a lent helper (vc_desk) gets the centres' events only.
const LIVE_ROLES: ReadonlySet<string> = DESK_ROLES;

const DUPE_REASON: Record<string, MessageKey> = {
  phone: 'vc.intake.dupeReason.phone',
  near: 'vc.intake.dupeReason.near',
  kana: 'vc.intake.dupeReason.kana',
};

const opts = (kind: ListKind): [string, string][] => vocabCodes(kind).map((c) => [c, vocabLabel(kind, c)]);

function drillBanner(centre: Centre | null): HTMLElement | null {
  if (!centre?.label) return null;
  return h('p', { class: 'drill-banner', role: 'note', 'data-drill': 'true' }, t('vc.drill'));
}

/** The matching board's choice, handed to the dispatch tab (module state: the router keeps no query). */
let pendingChoice: { team_id: string; need_id: string } | null = null;

/** `/staff/vc`: the centres (newest first); a drill centre carries 【訓練】 in its name. */
export const centresPage: PageFactory = (root, ctx) => {
  let centres: Centre[] | null = null;
  let error: unknown = null;
  const gate = staffGate(root, ctx, '/staff/vc', 'vc.title', () => void load(), DESK_ROLES);

  async function load(): Promise<void> {
    try {
      centres = await ctx.api.get<Centre[]>('/api/vc/centres/');
    } catch (err) {
      error = err;
    }
    render();
  }

  function render(): void {
    gate.render(() => [
      h('p', {}, t('vc.centres.lead')),
      error ? errorBox(error) : null,
      centres === null && !error ? h('p', { role: 'status' }, t('home.loading')) : null,
      centres?.length === 0 ? h('p', {}, t('vc.centres.none')) : null,
      centres?.length
        ? h('ul', { class: 'vc-centres', 'data-centres': 'true' }, ...centres.map((c) =>
            h('li', { 'data-centre': c.operation_id },
              appLink(ctx, deskPath(c.operation_id, 'board'), `${c.label}${c.name}`),
              ` (${t('vc.centres.opened', { date: c.opened_on })})`)))
        : null,
    ]);
  }
  render();
  return { render, dispose: () => gate.dispose() } satisfies Page;
};

/** `/staff/vc/:op/:step`: one centre's desk, one step of the day per tab. */
export const deskPage: PageFactory = (root, ctx, params = {}) => {
  const op = params.op ?? '';
  const step: DeskStep = isDeskStep(params.step) ? params.step : 'board';
  const base = `/api/vc/centres/${encodeURIComponent(op)}`;
  let centre: Centre | null = null;
  let needs: Need[] = [];
  let volunteers: Volunteer[] = [];
  let teams: Team[] = [];
  let matching: TeamSuggestions[] = [];
  let ledger: EquipmentRow[] = [];
  let stats: Statistics | null = null;
  let error: unknown = null;
  let notice = '';
  let loaded = false;
  let live: LiveStream | null = null;
  // data-live="on" only once the stream is open: an event sent before that would be missed.
  let liveOk = false;
  let canLive = false;
  let scanner: Scanner | null = null;
  let cameraFailed = false;
  let runLink: HTMLElement | null = null; // a drill centre: back to the run that opened it
  let dispatches: Dispatch[] = [];
  let needsMap: NeedsMap | null = null;
  let pickedNeed: Record<string, unknown> | null = null;
  // The map tab's container lives as long as the page: each render moves it, MapLibre stays in it.
  const mapEl = h('div', { class: 'vc-map', 'data-needs-map': '', role: 'region', 'aria-label': t('vc.map.label') });

  const gate = staffGate(root, ctx, '/staff/vc', 'vc.title', (user) => void start(user), DESK_ROLES);

  async function start(user: User): Promise<void> {
    try {
      const all = await ctx.api.get<Centre[]>('/api/vc/centres/');
      centre = all.find((c) => c.operation_id === op) ?? null;
      if (centre?.label) runLink = await runBackLink(ctx, op, user.role);
      await reload();
    } catch (err) {
      error = err;
    }
    loaded = true;
    render();
    canLive = LIVE_ROLES.has(user.role);
    if (step === 'map' && centre) {
      try {
        needsMap = await createNeedsMap(mapEl, ctx.api, op, centre, (props) => {
          pickedNeed = props;
          render();
        });
      } catch (err) {
        error = err;
        render();
      }
    }
    if ((step === 'board' || step === 'map') && centre && canLive) {
      live = openLiveStream({
        operationId: op,
        lastEventId: null,
        kinds: ['vc.need'],
        onEvent: (ev) => {
          if (step === 'map') {
            needsMap?.onNeedEvent(ev);
            return;
          }
          const next = applyNeedEvent(needs, ev);
          if (next === null) void reload().then(render);
          else {
            needs = next;
            render();
          }
        },
        onState: (s) => {
          liveOk = s.status === 'live';
          render();
        },
      });
    }
  }

  async function reload(): Promise<void> {
    const want: Promise<unknown>[] = [];
    if (['board', 'matching', 'dispatch', 'intake'].includes(step)) want.push(ctx.api.get<Need[]>(`${base}/needs`).then((v) => (needs = v)));
    if (['reception', 'teams'].includes(step)) want.push(ctx.api.get<Volunteer[]>(`${base}/volunteers`).then((v) => (volunteers = v)));
    if (step === 'reception') {
      want.push(ctx.api.get<JoinLink>(`${base}/join-link`).then((link) => (join = joinLinkState({ link })), (err: unknown) => (join = joinLinkState({ error: err }))));
    }
    if (['teams', 'matching', 'dispatch'].includes(step)) want.push(ctx.api.get<Team[]>(`${base}/teams`).then((v) => (teams = v)));
    if (step === 'matching') want.push(ctx.api.get<TeamSuggestions[]>(`${base}/matching`).then((v) => (matching = v)));
    if (step === 'dispatch') {
      want.push(ctx.api.get<EquipmentRow[]>(`${base}/equipment`).then((v) => (ledger = v)));
      want.push(ctx.api.get<Dispatch[]>(`${base}/dispatches`).then((v) => (dispatches = v)));
    }
    if (step === 'stats') want.push(ctx.api.get<Statistics>(`${base}/statistics`).then((v) => (stats = v)));
    await Promise.all(want);
  }

  async function act(fn: () => Promise<string>): Promise<void> {
    error = null;
    notice = '';
    try {
      notice = await fn();
      await reload();
    } catch (err) {
      error = err;
    }
    render();
    root.querySelector<HTMLElement>(error ? '[role=alert]' : '[data-notice]')?.focus();
  }

  const fieldErrors = () => fieldProblemTexts(error);

  // ---- 1. intake -------------------------------------------------------------------------------
  const intake = {
    requester_name: '', requester_kana: '', phone: '', address: '', town: '', lon: '', lat: '',
    people_needed: '2', hours_estimated: '', notes: '', needs_truck: false,
    damage_kinds: [] as string[], work_types: [] as string[], equipment: [] as string[], flags: [] as string[],
  };
  let dupes: Duplicate[] | null = null;
  // The map pick (staff/point-picker.ts), made once: each render moves it into the new form.
  let picker: PointPicker | null = null;
  function pickerElement(): HTMLElement {
    picker ??= pointPicker(ctx.api, 'need-pick', (lon, lat) => {
      Object.assign(intake, pickedFields(lon, lat));
      dupes = null; // a new place: ask for duplicates again
      render();
    });
    return picker.element;
  }

  function locationStatus(): HTMLElement {
    const loc = intakeLocation(intake);
    const key = loc.kind === 'pin' ? 'vc.intake.pinned' : loc.kind === 'approximate' ? 'vc.intake.approx' : 'vc.intake.pickHint';
    return h('p', { class: 'hint', role: 'status', 'data-location': loc.kind }, t(key));
  }

  const num = (s: string): number | null => (s.trim() === '' ? null : Number(s));

  function intakeView(): (Node | null)[] {
    const e = fieldErrors();
    const f = (id: keyof typeof intake, key: MessageKey, o: Parameters<typeof textField>[4] = {}) =>
      textField(`need-${id}`, key, String(intake[id]), (v) => {
        (intake as Record<string, unknown>)[id] = v;
        if (['phone', 'requester_kana', 'lon', 'lat'].includes(id)) dupes = null;
      }, { error: e.get(id), ...o });
    const truck = h('input', { type: 'checkbox', id: 'need-truck', checked: intake.needs_truck });
    truck.addEventListener('change', () => (intake.needs_truck = truck.checked));
    const check = h('button', { type: 'button', class: 'secondary', 'data-check-dupes': 'true' }, t('vc.intake.check'));
    check.addEventListener('click', () => void act(async () => {
      dupes = await ctx.api.post<Duplicate[]>(`${base}/needs/duplicates`, {
        requester_kana: intake.requester_kana, phone: intake.phone || null, lon: num(intake.lon), lat: num(intake.lat),
      });
      return '';
    }));
    const save = h('button', { type: 'submit', class: 'primary', disabled: dupes === null }, t('vc.intake.save'));
    const where = locationStatus();
    const form = h('form', { class: 'staff-form', 'data-intake': 'true', novalidate: true },
      f('requester_name', 'vc.intake.name', { required: true }),
      f('requester_kana', 'vc.intake.kana'),
      f('phone', 'staff.reg.phone', { type: 'tel', inputmode: 'tel' }),
      f('address', 'staff.reg.address', { required: true }),
      pickerElement(),
      f('lat', 'staff.reg.lat', { inputmode: 'decimal' }),
      f('lon', 'staff.reg.lon', { inputmode: 'decimal' }),
      f('town', 'vc.intake.town'),
      where,
      f('people_needed', 'vc.intake.people', { type: 'number', inputmode: 'numeric' }),
      f('hours_estimated', 'vc.intake.hours', { type: 'number', inputmode: 'decimal' }),
      checkboxes('need-damage', 'vc.intake.damage', opts('vc_damage_kinds'), intake.damage_kinds),
      checkboxes('need-work', 'vc.intake.work', opts('vc_work_types'), intake.work_types),
      checkboxes('need-equipment', 'vc.intake.equipment', opts('vc_equipment'), intake.equipment),
      checkboxes('need-flags', 'vc.intake.flags', opts('vc_need_flags'), intake.flags),
      h('div', { class: 'choice' }, truck, h('label', { for: 'need-truck' }, t('vc.intake.truck'))),
      f('notes', 'vc.intake.notes', { type: 'textarea' }),
      check,
      dupesView(),
      dupes === null ? h('p', { class: 'hint' }, t('vc.intake.checkFirst')) : null,
      save);
    // Typing a point or a town tells at once where the need will be placed (not only at the next render).
    form.addEventListener('input', () => {
      const next = locationStatus(); // the same live region, new words: a screen reader hears the change
      if (next.dataset['location'] !== where.dataset['location']) {
        where.textContent = next.textContent;
        where.dataset['location'] = next.dataset['location'];
      }
    });
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void act(async () => {
        const saved = await ctx.api.post<Need>(`${base}/needs`, {
          requester_name: intake.requester_name, requester_kana: intake.requester_kana, phone: intake.phone || null,
          address: intake.address, ...locationBody(intakeLocation(intake)),
          people_needed: Number(intake.people_needed), hours_estimated: num(intake.hours_estimated),
          needs_truck: intake.needs_truck, notes: intake.notes || null, damage_kinds: intake.damage_kinds,
          work_types: intake.work_types, equipment: intake.equipment, flags: intake.flags,
        });
        Object.assign(intake, { requester_name: '', requester_kana: '', phone: '', address: '', town: '', lon: '', lat: '', notes: '' });
        dupes = null;
        return t(saved.location_approximate ? 'vc.intake.savedApprox' : 'vc.intake.saved');
      });
    });
    return [form];
  }

  function dupesView(): HTMLElement | null {
    if (dupes === null) return null;
    if (dupes.length === 0) return h('p', { role: 'status', 'data-dupes': '0' }, t('vc.intake.noDupes'));
    return h('section', { class: 'vc-dupes', 'aria-labelledby': 'dupes-title', 'data-dupes': String(dupes.length) },
      h('h2', { id: 'dupes-title' }, t('vc.intake.dupes', { count: dupes.length })),
      h('ul', {}, ...dupes.map((d) => h('li', { 'data-dupe': d.need_id },
        `${d.requester_name} — ${d.address} (${vocabLabel('vc_need_states', d.state)}) `,
        d.reasons.map((r) => (DUPE_REASON[r] ? t(DUPE_REASON[r]) : r)).join('・'),
        d.distance_m !== null ? ` ${Math.round(d.distance_m)} m` : ''))));
  }

  // ---- board (+ survey) ------------------------------------------------------------------------
  let surveying: string | null = null;
  const survey = { verdict: 'needed', surveyor: '', risks: [] as string[], risk_notes: '' };

  function needCard(n: Need): HTMLElement {
    const actions: HTMLElement[] = [];
    if (n.state === 'received') {
      for (const [state, key] of [['survey', 'vc.need.survey'], ['waiting', 'vc.need.waiting']] as const) {
        const b = h('button', { type: 'button', class: 'secondary', 'data-to': state }, t(key));
        b.addEventListener('click', () => void act(async () => {
          await ctx.api.post(`/api/vc/needs/${encodeURIComponent(n.id)}/state`, { state });
          return '';
        }));
        actions.push(b);
      }
    }
    if (n.state === 'received' || n.state === 'survey') {
      const b = h('button', { type: 'button', class: 'secondary', 'data-survey': 'true' }, t('vc.survey.title'));
      b.addEventListener('click', () => {
        surveying = n.id;
        render();
        root.querySelector<HTMLElement>('#survey-verdict')?.focus();
      });
      actions.push(b);
    }
    return h('li', { class: 'vc-card', 'data-need': n.id, 'data-state': n.state },
      h('p', {}, h('strong', {}, n.address), n.location_approximate ? ` (${t('vc.need.approx')})` : ''),
      h('p', {}, `${t('vc.need.people', { count: n.people_needed })} ・ ${n.work_types.map((w) => vocabLabel('vc_work_types', w)).join('、')}`),
      n.flags.length ? h('p', {}, n.flags.map((f) => vocabLabel('vc_need_flags', f)).join('・')) : null,
      n.remaining ? h('p', {}, n.remaining) : null,
      actions.length ? h('div', { class: 'row-actions' }, ...actions) : null,
      surveying === n.id ? surveyForm(n) : null);
  }

  function surveyForm(n: Need): HTMLElement {
    const e = fieldErrors();
    const form = h('form', { class: 'staff-form', 'data-survey-form': 'true' },
      selectField('survey-verdict', 'vc.survey.verdict', opts('vc_survey_verdicts'), survey.verdict, (v) => (survey.verdict = v), e.get('verdict')),
      textField('survey-surveyor', 'vc.survey.surveyor', survey.surveyor, (v) => (survey.surveyor = v), { error: e.get('surveyor'), required: true }),
      checkboxes('survey-risks', 'vc.survey.risks', opts('vc_risks'), survey.risks),
      textField('survey-notes', 'vc.survey.notes', survey.risk_notes, (v) => (survey.risk_notes = v), { type: 'textarea' }),
      h('button', { type: 'submit', class: 'primary' }, t('vc.survey.save')));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void act(async () => {
        await ctx.api.post(`/api/vc/needs/${encodeURIComponent(n.id)}/surveys`, {
          verdict: survey.verdict, surveyor: survey.surveyor, risks: survey.risks, risk_notes: survey.risk_notes || null,
        });
        surveying = null;
        return t('vc.survey.saved');
      });
    });
    return form;
  }

  function boardView(): (Node | null)[] {
    const reloadButton = h('button', { type: 'button', class: 'secondary', 'data-reload': 'true' }, t('home.retry'));
    reloadButton.addEventListener('click', () => void act(async () => ''));
    return [
      h('p', { role: 'status', 'data-live': liveOk ? 'on' : 'off' }, t(liveOk ? 'vc.live.on' : canLive ? 'vc.live.connecting' : 'vc.live.off')),
      canLive ? null : reloadButton,
      h('div', { class: 'vc-board', 'data-board': 'true' }, ...boardColumns(needs).map(([state, list]) =>
        h('section', { class: 'vc-column', 'data-column': state, 'aria-labelledby': `col-${state}` },
          h('h2', { id: `col-${state}` }, `${vocabLabel('vc_need_states', state)} `, h('span', { 'data-count': 'true' }, t('console.count', { count: list.length }))),
          list.length ? h('ul', {}, ...list.map(needCard)) : h('p', {}, t('vc.board.empty'))))),
    ];
  }

  // ---- the needs map -------------------------------------------------------------------------
  function mapView(): (Node | null)[] {
    return [
      h('p', { role: 'status', 'data-live': liveOk ? 'on' : 'off' }, t(liveOk ? 'vc.live.on' : 'vc.live.connecting')),
      mapEl,
      pickedNeed ? needSummary(pickedNeed) : null,
      needsLegend(),
    ];
  }

  // ---- 3. reception ----------------------------------------------------------------------------
  // The public pre-registration page: its address to copy, its QR, the A4 poster (open centres only).
  let join: ReturnType<typeof joinLinkState> | null = null;
  let copied = '';

  function joinSection(): HTMLElement | null {
    if (join === null) return null;
    const label = centre?.label ?? '';
    const title = h('h2', { id: 'join-title' }, `${label}${t('vc.link.title')}`);
    if (join.kind === 'closed') return h('section', { 'aria-labelledby': 'join-title', 'data-join-link': 'closed' }, title, h('p', {}, t('vc.link.closed')));
    if (join.kind === 'error') return h('section', { 'aria-labelledby': 'join-title' }, title, errorBox(join.error));
    const link = join.link;
    const url = h('input', { id: 'join-url', type: 'url', readonly: true, value: link.url, 'data-join-url': 'true' });
    url.addEventListener('focus', () => url.select());
    const copy = h('button', { type: 'button', class: 'secondary', 'data-copy-join': 'true' }, t('vc.link.copy'));
    const status = h('p', { role: 'status', 'data-copy-status': 'true' }, copied);
    copy.addEventListener('click', () => {
      void navigator.clipboard.writeText(link.url).then(
        () => (copied = t('vc.link.copied')),
        () => {
          copied = t('vc.link.copyFailed');
          url.focus();
        },
      ).then(() => (status.textContent = copied));
    });
    return h('section', { class: 'vc-join-link', 'aria-labelledby': 'join-title', 'data-join-link': 'open' },
      title,
      h('p', {}, t('vc.link.lead')),
      h('div', { class: 'field' }, h('label', { for: 'join-url' }, t('vc.link.url')), url),
      h('div', { class: 'row-actions' }, copy,
        appLink(ctx, posterPath(op), t('vc.link.poster'), { class: 'button secondary', 'data-join-poster': 'true' })),
      status,
      h('img', { class: 'vc-qr', src: qrSource(link), alt: t('vc.link.qrAlt'), 'data-join-qr': 'true', width: 256, height: 256 }));
  }

  let token = '';
  const walkin = {
    kind: 'individual', name: '', group_name: '', group_size: '1', age_band: 'age_30_49', prefecture: '',
    skills: [] as string[], light_truck: false, insurance: 'enrolled', insured_where: '', insurance_receipt: '',
    guardian_consent_by: '',
  };

  async function checkIn(raw: string): Promise<void> {
    const value = tokenFromScan(raw);
    if (!value) return;
    await act(async () => {
      const v = await ctx.api.post<Volunteer>(`${base}/checkins`, { token: value });
      token = '';
      return t('vc.rec.checkedIn', { name: v.name });
    });
  }

  function receptionView(): (Node | null)[] {
    const e = fieldErrors();
    const video = h('video', { class: 'vc-camera', playsinline: true, 'aria-label': t('vc.rec.scan'), hidden: scanner === null });
    const cam = h('button', { type: 'button', class: 'secondary', 'data-camera': scanner ? 'stop' : 'start' }, t(scanner ? 'vc.rec.scanStop' : 'vc.rec.scanStart'));
    cam.addEventListener('click', () => {
      if (scanner) {
        scanner.stop();
        scanner = null;
        render();
        return;
      }
      startScanner(video, (code) => {
        scanner = null;
        void checkIn(code);
      }).then(
        (s) => {
          scanner = s;
          cameraFailed = false;
          cam.textContent = t('vc.rec.scanStop');
          cam.dataset.camera = 'stop';
          video.hidden = false;
          root.querySelector('[data-scan-status]')?.replaceChildren(t('vc.rec.scanning'));
        },
        () => {
          cameraFailed = true;
          render();
          root.querySelector<HTMLElement>('#checkin-token')?.focus();
        },
      );
    });
    const tokenForm = h('form', { class: 'staff-form', 'data-checkin': 'true' },
      textField('checkin-token', 'vc.rec.token', token, (v) => (token = v), { error: e.get('token') }),
      h('button', { type: 'submit', class: 'primary' }, t('vc.rec.checkin')));
    tokenForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void checkIn(token);
    });
    const w = (id: keyof typeof walkin, key: MessageKey, o: Parameters<typeof textField>[4] = {}) =>
      textField(`vol-${id}`, key, String(walkin[id]), (v) => ((walkin as Record<string, unknown>)[id] = v), { error: e.get(id), ...o });
    const truck = h('input', { type: 'checkbox', id: 'vol-truck', checked: walkin.light_truck });
    truck.addEventListener('change', () => (walkin.light_truck = truck.checked));
    const form = h('form', { class: 'staff-form', 'data-walkin': 'true', novalidate: true },
      h('h2', {}, t('vc.rec.walkin')),
      selectField('vol-kind', 'vc.rec.kind', [['individual', t('vc.rec.kind.individual')], ['group', t('vc.rec.kind.group')]], walkin.kind, (v) => { walkin.kind = v; render(); }),
      w('name', 'common.name', { required: true }),
      walkin.kind === 'group' ? w('group_name', 'vc.rec.groupName') : null,
      walkin.kind === 'group' ? w('group_size', 'vc.rec.groupSize', { type: 'number', inputmode: 'numeric' }) : null,
      selectField('vol-age_band', 'vc.rec.age', opts('vc_age_bands'), walkin.age_band, (v) => { walkin.age_band = v; render(); }, e.get('age_band')),
      w('prefecture', 'vc.rec.prefecture', { inputmode: 'numeric', required: true }),
      checkboxes('vol-skills', 'vc.rec.skills', opts('vc_skills'), walkin.skills),
      h('div', { class: 'choice' }, truck, h('label', { for: 'vol-truck' }, t('vc.rec.truck'))),
      selectField('vol-insurance', 'vc.rec.insurance', opts('vc_insurance'), walkin.insurance, (v) => { walkin.insurance = v; render(); }, e.get('insurance')),
      walkin.insurance === 'enrolled' ? w('insured_where', 'vc.rec.insuredWhere') : null,
      walkin.insurance === 'enrolled_here' ? w('insurance_receipt', 'vc.rec.receipt') : null,
      ['under_16', 'age_16_17'].includes(walkin.age_band) ? w('guardian_consent_by', 'vc.rec.guardian') : null,
      h('button', { type: 'submit', class: 'primary' }, t('vc.rec.register')));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void act(async () => {
        const v = await ctx.api.post<Volunteer>(`${base}/volunteers`, {
          kind: walkin.kind, name: walkin.name, age_band: walkin.age_band, prefecture: walkin.prefecture,
          group_name: walkin.kind === 'group' ? walkin.group_name || null : null,
          group_size: walkin.kind === 'group' ? Number(walkin.group_size) : 1,
          skills: walkin.skills, light_truck: walkin.light_truck, insurance: walkin.insurance,
          insured_where: walkin.insurance === 'enrolled' ? walkin.insured_where || null : null,
          insurance_receipt: walkin.insurance === 'enrolled_here' ? walkin.insurance_receipt || null : null,
          guardian_consent_by: walkin.guardian_consent_by || null,
        });
        Object.assign(walkin, { name: '', group_name: '', group_size: '1', insurance_receipt: '', guardian_consent_by: '' });
        return t('vc.rec.checkedIn', { name: v.name });
      });
    });
    return [
      joinSection(),
      h('section', { 'aria-labelledby': 'scan-title' },
        h('h2', { id: 'scan-title' }, t('vc.rec.scan')),
        cam, video,
        h('p', { role: 'status', 'data-scan-status': 'true' }, cameraFailed ? t('vc.rec.noCamera') : ''),
        tokenForm),
      form,
      h('section', { 'aria-labelledby': 'today-title' },
        h('h2', { id: 'today-title' }, t('vc.rec.today', { count: peopleOf(volunteers) })),
        h('ul', { 'data-checked-in': 'true' }, ...volunteers.map((v) => {
          const li = h('li', { 'data-volunteer': v.id }, `${v.name}${v.kind === 'group' ? `（${v.group_name ?? ''} ${v.group_size}）` : ''} ・ ${vocabLabel('vc_insurance', v.insurance)}`);
          if (v.insurance === 'none') {
            const b = h('button', { type: 'button', class: 'secondary' }, t('vc.rec.enrol'));
            b.addEventListener('click', () => void act(async () => {
              await ctx.api.post(`/api/vc/volunteers/${encodeURIComponent(v.id)}/insurance`, { insurance: 'enrolled_here', insurance_receipt: walkin.insurance_receipt || null });
              return '';
            }));
            li.append(' ', b);
          }
          return li;
        }))),
    ];
  }

  // ---- 4. teams --------------------------------------------------------------------------------
  const team = { name: '', leader_id: '', members: [] as string[] };

  function teamsView(): (Node | null)[] {
    const e = fieldErrors();
    const free = unassigned(volunteers, teams);
    const form = h('form', { class: 'staff-form', 'data-team-form': 'true' },
      textField('team-name', 'vc.teams.name', team.name, (v) => (team.name = v), { error: e.get('name'), required: true }),
      selectField('team-leader', 'vc.teams.leader', [['', '—'], ...free.map((v): [string, string] => [v.id, v.name])], team.leader_id, (v) => (team.leader_id = v), e.get('leader_id')),
      checkboxes('team-members', 'vc.teams.members', free.map((v) => [v.id, `${v.name}${v.kind === 'group' ? ` (${v.group_size})` : ''}`]), team.members, e.get('member_ids')),
      h('button', { type: 'submit', class: 'primary' }, t('vc.teams.create')));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void act(async () => {
        const ids = team.members.includes(team.leader_id) || !team.leader_id ? team.members : [team.leader_id, ...team.members];
        const made = await ctx.api.post<Team>(`${base}/teams`, { name: team.name, leader_id: team.leader_id, member_ids: ids });
        Object.assign(team, { name: '', leader_id: '', members: [] });
        return t('vc.teams.created', { name: made.name });
      });
    });
    return [form, teamList()];
  }

  function teamList(): HTMLElement {
    if (!teams.length) return h('p', {}, t('vc.teams.none'));
    return h('section', { 'aria-labelledby': 'teams-title' }, h('h2', { id: 'teams-title' }, t('vc.teams.list')),
      h('ul', { 'data-teams': 'true' }, ...teams.map((tm) => h('li', { 'data-team': tm.id }, `${tm.name} ・ ${t('vc.teams.people', { count: tm.people })}`))));
  }

  // ---- 5. matching + dispatch ------------------------------------------------------------------
  const chosen = { team_id: '', need_id: '' };
  const quantities: Record<string, string> = {};
  const needById = (id: string) => needs.find((n) => n.id === id);

  function matchingView(): (Node | null)[] {
    return [
      h('p', {}, t('vc.match.lead')),
      ...matching.map((m) => h('section', { class: 'vc-match', 'data-match-team': m.team_id, 'aria-labelledby': `m-${m.team_id}` },
        h('h2', { id: `m-${m.team_id}` }, `${m.team_name} ・ ${t('vc.teams.people', { count: m.people })}`),
        m.suggestions.length === 0 ? h('p', {}, t('vc.match.none')) : h('ol', {}, ...m.suggestions.map((s) => {
          const b = h('button', { type: 'button', class: 'secondary', 'data-choose': s.need_id, 'aria-label': `${t('vc.match.choose')}: ${needById(s.need_id)?.address ?? ''}` }, t('vc.match.choose'));
          b.addEventListener('click', () => {
            pendingChoice = { team_id: m.team_id, need_id: s.need_id };
            ctx.navigate(deskPath(op, 'dispatch'));
          });
          return h('li', { 'data-suggestion': s.need_id }, h('span', {}, `${needById(s.need_id)?.address ?? s.need_id} — `), h('span', { 'data-reasons': 'true' }, s.reasons), ' ', b);
        })))),
    ];
  }

  function dispatchView(): (Node | null)[] {
    const e = fieldErrors();
    if (pendingChoice) {
      Object.assign(chosen, pendingChoice);
      pendingChoice = null;
    }
    const waiting = needs.filter((n) => n.state === 'waiting' || n.state === 'continued');
    const form = h('form', { class: 'staff-form', 'data-dispatch-form': 'true' },
      selectField('dispatch-team', 'vc.dispatch.team', [['', '—'], ...teams.map((tm): [string, string] => [tm.id, `${tm.name} (${tm.people})`])], chosen.team_id, (v) => (chosen.team_id = v), e.get('team_id')),
      selectField('dispatch-need', 'vc.dispatch.need', [['', '—'], ...waiting.map((n): [string, string] => [n.id, n.address])], chosen.need_id, (v) => (chosen.need_id = v), e.get('need_id')),
      ...vocabCodes('vc_equipment').map((code) => textField(`eq-${code}`, 'vc.dispatch.colItem', quantities[code] ?? '', (v) => (quantities[code] = v), { type: 'number', inputmode: 'numeric' })),
      h('button', { type: 'submit', class: 'primary' }, t('vc.dispatch.send')));
    // Each quantity is labelled by its item, not the column name.
    for (const code of vocabCodes('vc_equipment')) {
      const label = form.querySelector(`label[for="eq-${code}"]`);
      if (label) label.textContent = vocabLabel('vc_equipment', code);
    }
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void act(async () => {
        await ctx.api.post<Dispatch>(`${base}/dispatches`, { team_id: chosen.team_id, need_id: chosen.need_id, equipment: equipmentLines(quantities) });
        chosen.team_id = '';
        chosen.need_id = '';
        for (const k of Object.keys(quantities)) delete quantities[k];
        return t('vc.dispatch.sent');
      });
    });
    const active = dispatches.filter((d) => d.state === 'active');
    return [
      form,
      active.length ? h('section', { 'aria-labelledby': 'active-title' }, h('h2', { id: 'active-title' }, t('vc.dispatch.active')),
        h('ul', {}, ...active.map((d) => {
          const outcome = h('select', { id: `outcome-${d.id}`, 'aria-label': t('vc.report.outcome') },
            h('option', { value: 'done' }, t('vc.report.done')), h('option', { value: 'continued' }, t('vc.report.continued')));
          const hours = h('input', { id: `hours-${d.id}`, type: 'number', inputmode: 'decimal', min: 0, max: 24, value: '' });
          const b = h('button', { type: 'button', class: 'secondary', 'data-report': d.id }, t('vc.dispatch.returnAll'));
          b.addEventListener('click', () => void act(async () => {
            const tm = teams.find((x) => x.id === d.team_id);
            await ctx.api.post(`/api/vc/dispatches/${encodeURIComponent(d.id)}/report`, {
              client_id: uuidv7(), outcome: outcome.value, people: tm?.people ?? 0, hours: Number(hours.value || 0),
              device_time: new Date().toISOString(), returns: fullReturns(d.equipment),
            });
            return t('vc.report.sent');
          }));
          const back: Record<string, { returned: string; lost: string }> = {};
          const returnsForm = h('form', { class: 'row-actions', 'data-returns': d.id },
            ...Object.entries(d.equipment).flatMap(([code, n]) => {
              back[code] = { returned: '', lost: '' };
              return (['returned', 'lost'] as const).map((k) => {
                const id = `${k}-${d.id}-${code}`;
                const input = h('input', { id, type: 'number', inputmode: 'numeric', min: 0, max: n, value: '' });
                input.addEventListener('input', () => (back[code]![k] = input.value));
                return h('span', { class: 'field' }, h('label', { for: id }, `${vocabLabel('vc_equipment', code)} ${t(k === 'returned' ? 'vc.dispatch.returned' : 'vc.dispatch.colLost')}`), input);
              });
            }),
            h('button', { type: 'submit', class: 'secondary' }, t('vc.dispatch.recordReturns')));
          returnsForm.addEventListener('submit', (ev) => {
            ev.preventDefault();
            void act(async () => {
              await ctx.api.post(`/api/vc/dispatches/${encodeURIComponent(d.id)}/returns`, { items: returnLines(back) });
              return t('vc.dispatch.returnsDone');
            });
          });
          return h('li', { 'data-dispatch': d.id }, `${teams.find((x) => x.id === d.team_id)?.name ?? ''} → ${needById(d.need_id)?.address ?? ''} `, outcome, ' ',
            h('label', { for: `hours-${d.id}` }, t('vc.report.hours')), ' ', hours, ' ', b,
            Object.keys(d.equipment).length ? returnsForm : null);
        }))) : null,
      h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': t('vc.dispatch.ledger') },
        h('table', { class: 'staff-table', 'data-ledger': 'true' }, h('caption', {}, t('vc.dispatch.ledger')),
          h('thead', {}, h('tr', {}, ...(['vc.dispatch.colItem', 'vc.dispatch.colStock', 'vc.dispatch.colOut', 'vc.dispatch.colLost'] as const).map((k) => h('th', { scope: 'col' }, t(k))))),
          h('tbody', {}, ...ledger.map((r) => h('tr', { 'data-item': r.code }, h('th', { scope: 'row' }, vocabLabel('vc_equipment', r.code)), h('td', {}, String(r.stock)), h('td', {}, String(r.out)), h('td', {}, String(r.lost))))))),
    ];
  }

  // ---- 7. statistics ---------------------------------------------------------------------------
  function statsView(): (Node | null)[] {
    if (!stats) return [];
    const cols: [MessageKey, (d: Statistics['days'][number]) => string][] = [
      ['vc.stats.colDay', (d) => d.vc_day],
      ['vc.stats.colVolunteers', (d) => String(d.volunteers)],
      ['vc.stats.colOutside', (d) => String(d.out_of_prefecture)],
      ['vc.stats.colCumulative', (d) => String(d.cumulative_volunteers)],
      ['vc.stats.colActivities', (d) => String(d.activities)],
      ['vc.stats.colReceived', (d) => String(d.needs_received)],
      ['vc.stats.colSurveyed', (d) => String(d.needs_surveyed)],
      ['vc.stats.colClosed', (d) => String(d.needs_closed)],
      ['vc.stats.colOpen', (d) => String(d.needs_open)],
    ];
    // The A4 daily sheet: the latest day from here, any day from its date in the table.
    const lastDay = stats.days.at(-1)?.vc_day;
    const print = lastDay ? appLink(ctx, dailySheetPath(op, lastDay), t('vc.stats.print'), { class: 'button secondary', 'data-daily-sheet': lastDay }) : null;
    return [
      h('p', { class: 'row-actions' }, h('a', { href: `${base}/statistics.csv`, download: '', class: 'button', 'data-csv': 'true' }, t('vc.stats.csv')), ' ', print),
      h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': t('vc.step.stats') },
        h('table', { class: 'staff-table', 'data-stats': 'true' }, h('caption', {}, `${stats.label}${t('vc.step.stats')}`),
          h('thead', {}, h('tr', {}, ...cols.map(([k]) => h('th', { scope: 'col' }, t(k))))),
          h('tbody', {}, ...stats.days.map((d) => h('tr', { 'data-day': d.vc_day }, ...cols.map(([, f], i) => (i === 0 ? h('th', { scope: 'row' }, appLink(ctx, dailySheetPath(op, d.vc_day), f(d), { class: 'vc-day-link', 'aria-label': t('vc.sheet.link', { day: f(d) }) })) : h('td', {}, f(d))))))))),
    ];
  }

  const VIEWS: Record<DeskStep, () => (Node | null)[]> = {
    board: boardView, map: mapView, intake: intakeView, reception: receptionView, teams: teamsView,
    matching: matchingView, dispatch: dispatchView, stats: statsView,
  };

  function render(): void {
    gate.render(() => {
      if (!loaded) return [h('p', { role: 'status' }, t('home.loading'))];
      if (!centre) return [error ? errorBox(error) : h('p', { role: 'alert' }, t('vc.centres.none'))];
      return [
        drillBanner(centre),
        runLink,
        h('h2', { 'data-centre-name': 'true' }, `${centre.label}${centre.name}`),
        h('nav', { class: 'vc-steps', 'aria-label': t('vc.steps') }, h('ul', {}, ...DESK_STEPS.map((s) =>
          h('li', {}, appLink(ctx, deskPath(op, s), t(STEP_LABEL[s]), s === step ? { 'aria-current': 'page' } : {}))))),
        h('h2', { 'data-step': step }, `${centre.label}${t(STEP_LABEL[step])}`),
        notice ? h('p', { role: 'status', tabindex: '-1', 'data-notice': 'true' }, notice) : null,
        error ? errorBox(error) : null,
        ...VIEWS[step](),
      ];
    });
  }

  render();
  return {
    render,
    dispose() {
      live?.close();
      needsMap?.destroy();
      picker?.dispose();
      scanner?.stop();
      gate.dispose();
    },
  } satisfies Page;
};
