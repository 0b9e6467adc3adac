import { t, type MessageKey } from '../../i18n';
import type { Page, PageFactory } from '../../router';
import { appLink, h } from '../../ui/dom';
import { errorBox, staffGate } from '../shell';
import { centreNav } from './centre-links';
import { SPEEDS, type Run, type ScenarioSummary, type Speed } from './drills-model';

const SPEED_LABELS: Record<Speed, MessageKey> = {
  '1x': 'staff.drills.speed.1x',
  '10x': 'staff.drills.speed.10x',
  '60x': 'staff.drills.speed.60x',
  max: 'staff.drills.speed.max',
};

const STATUS_LABELS: Record<Run['status'], MessageKey> = {
  running: 'staff.drills.status.running',
  paused: 'staff.drills.status.paused',
  stopped: 'staff.drills.status.stopped',
  finished: 'staff.drills.status.finished',
};

/** How often the list re-reads a running drill's clock (the server's clock is the truth). */
const REFRESH_MS = 2000;
/** Who may start and steer a run (the API's STAFF guard); coordinators follow and read reports. */
const RUNNERS: ReadonlySet<string> = new Set(['admin', 'staff']);

/**
 * `/staff/drills`: start a drill from a shipped scenario, drive its clock (pause, resume, speed,
 * skip, stop) and open its report. Everything here is marked 【訓練】.
 */
export const drillsPage: PageFactory = (root, ctx) => {
  let scenarios: ScenarioSummary[] = [];
  let runs: Run[] = [];
  let error: unknown = null;
  let notice = '';
  let timer: ReturnType<typeof setTimeout> | null = null;

  let role = '';
  const canRun = (): boolean => RUNNERS.has(role);
  const gate = staffGate(root, ctx, '/staff/drills', 'staff.drills.title', (user) => {
    role = user.role;
    void load();
  });

  async function load(): Promise<void> {
    try {
      // Coordinators follow the runs and read the reports; starting and steering are staff's.
      [scenarios, runs] = await Promise.all([
        canRun() ? ctx.api.get<ScenarioSummary[]>('/api/drills/scenarios') : Promise.resolve([]),
        ctx.api.get<Run[]>('/api/drills/runs'),
      ]);
      error = null;
    } catch (err) {
      error = err;
    }
    render();
    schedule();
  }

  function schedule(): void {
    if (timer) clearTimeout(timer);
    if (gate.disposed() || !runs.some((r) => r.status === 'running')) return;
    timer = setTimeout(() => void load(), REFRESH_MS);
  }

  async function act(run: Run, action: string, speed?: Speed): Promise<void> {
    try {
      await ctx.api.post<Run>(`/api/drills/runs/${run.id}/clock`, speed ? { action, speed } : { action });
      notice = '';
    } catch (err) {
      error = err;
    }
    await load();
  }

  function startForm(): HTMLElement {
    const scenario = h('select', { id: 'drill-scenario', name: 'scenario', required: true },
      ...scenarios.map((s) => h('option', { value: s.name ?? '' }, s.title)));
    const speed = h('select', { id: 'drill-speed', name: 'speed' },
      ...SPEEDS.map((s) => h('option', { value: s, selected: s === '60x' }, t(SPEED_LABELS[s]))));
    const form = h('form', { class: 'stack', 'data-form': 'start-drill' },
      h('label', { for: 'drill-scenario' }, t('staff.drills.scenario')), scenario,
      h('label', { for: 'drill-speed' }, t('staff.drills.speed')), speed,
      h('button', { type: 'submit', class: 'primary' }, t('staff.drills.start')));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void (async () => {
        try {
          await ctx.api.post<Run>('/api/drills/runs', { scenario: scenario.value, speed: speed.value });
          notice = t('staff.drills.started');
          error = null;
        } catch (err) {
          error = err;
        }
        await load();
      })();
    });
    return form;
  }

  function button(label: MessageKey, onClick: () => void, cls = 'secondary'): HTMLButtonElement {
    const b = h('button', { type: 'button', class: cls }, t(label));
    b.addEventListener('click', onClick);
    return b;
  }

  function controls(run: Run): HTMLElement {
    const live = run.status === 'running' || run.status === 'paused';
    const speed = h('select', { 'aria-label': `${t('staff.drills.speed')} ${run.title}`, disabled: !live },
      ...SPEEDS.map((s) => h('option', { value: s, selected: s === run.speed }, t(SPEED_LABELS[s]))));
    speed.addEventListener('change', () => void act(run, 'speed', speed.value as Speed));
    const report = appLink(ctx, `/staff/drills/${run.id}`, t('staff.drills.report'), { class: 'button secondary' });
    if (!canRun()) return h('div', { class: 'row-actions' }, report);
    return h('div', { class: 'row-actions' },
      live && run.status === 'running' ? button('staff.drills.pause', () => void act(run, 'pause')) : null,
      live && run.status === 'paused' ? button('staff.drills.resume', () => void act(run, 'resume')) : null,
      live ? button('staff.drills.skip', () => void act(run, 'skip')) : null,
      live ? speed : null,
      live ? button('staff.drills.stop', () => void act(run, 'stop'), 'danger') : null,
      report);
  }

  function table(): HTMLElement {
    if (!runs.length) return h('p', {}, t('staff.drills.none'));
    return h('table', { class: 'data' },
      h('caption', {}, t('staff.drills.runs')),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, t('staff.drills.colTitle')), h('th', { scope: 'col' }, t('common.status')),
        h('th', { scope: 'col' }, t('staff.report.colAt')), h('th', { scope: 'col' }, t('staff.report.type.inject')),
        h('th', { scope: 'col' }, t('staff.colActions')))),
      h('tbody', {}, ...runs.map((r) => h('tr', { 'data-run': r.id },
        h('td', {}, r.title.startsWith(r.label) ? r.title : r.label + r.title, centreNav(ctx, r, role)),
        h('td', {}, t(STATUS_LABELS[r.status])),
        h('td', {}, `${r.clock} / ${r.duration}`),
        h('td', {}, t('staff.drills.injectsFired', { fired: r.fired, total: r.injects })),
        h('td', {}, controls(r))))));
  }

  function render(): void {
    gate.render(() => [
      h('p', { class: 'drill-banner', role: 'note' }, t('staff.drills.lead')),
      error ? errorBox(error) : null,
      notice ? h('p', { role: 'status' }, notice) : null,
      canRun() ? startForm() : null,
      h('p', {}, h('a', { href: '/api/drills/scenario-schema' }, t('staff.drills.schemaLink'))),
      h('button', { type: 'button', class: 'secondary', 'data-action': 'refresh' }, t('staff.drills.refresh')),
      table(),
    ]);
    root.querySelector('[data-action="refresh"]')?.addEventListener('click', () => void load());
  }

  render();
  return {
    render,
    dispose: () => {
      if (timer) clearTimeout(timer);
      gate.dispose();
    },
  } satisfies Page;
};
