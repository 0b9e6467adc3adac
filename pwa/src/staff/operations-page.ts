import { t, type MessageKey } from '../i18n';
import type { Page, PageFactory } from '../router';
import { appLink, h } from '../ui/dom';
import { fieldProblemTexts } from '../ui/problem-text';
import { confirmDialog } from './dialog';
import {
  declarationPayload,
  districtTree,
  operationPayload,
  operationTitle,
  STATUS_LABEL,
  type Declaration,
  type DeclarationForm,
  type District,
  type OperationForm,
  type StaffOperation,
} from './operations-model';
import { polygonPicker } from './polygon-picker';
import { errorBox, staffGate } from './shell';
import { vocabLabel, vocabOptions } from '../vocab';

/** Hazard-zone kinds an operation can target: a zone of kind その他 names no hazard to target by. */
const hazardOptions = (): [string, string][] => vocabOptions('hazard_zone_kinds').filter(([code]) => code !== 'other');

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString('ja-JP', { dateStyle: 'medium', timeStyle: 'short' });
}

export function modeTag(mode: string): HTMLElement {
  return mode === 'drill' ? h('span', { class: 'drill-tag' }, t('staff.mode.drill')) : h('span', { class: 'real-tag' }, t('staff.mode.real'));
}

/** Checkbox list; `selected` is mutated in place so re-renders keep the choice. */
export function checkList(name: string, legendKey: MessageKey, items: [string, string, number?][], selected: Set<string>, error?: string): HTMLElement {
  return h(
    'fieldset',
    { class: 'check-list', 'aria-invalid': error ? 'true' : null, 'aria-describedby': error ? `${name}-error` : null },
    h('legend', {}, t(legendKey)),
    ...items.map(([value, label, depth]) => {
      const id = `${name}-${value}`;
      const box = h('input', { type: 'checkbox', id, name, value, checked: selected.has(value) });
      box.addEventListener('change', () => (box.checked ? selected.add(value) : selected.delete(value)));
      return h('div', { class: 'choice', style: depth ? `padding-left:${depth * 1.5}rem` : null }, box, h('label', { for: id }, label));
    }),
    error ? h('p', { class: 'error', id: `${name}-error` }, error) : null,
  );
}

function radios(name: string, legendKey: MessageKey, items: [string, string][], value: string, onChange: (v: string) => void): HTMLElement {
  return h(
    'fieldset',
    {},
    h('legend', {}, t(legendKey)),
    ...items.map(([v, text]) => {
      const id = `${name}-${v}`;
      const input = h('input', { type: 'radio', id, name, value: v, checked: v === value });
      input.addEventListener('change', () => onChange(v));
      return h('div', { class: 'choice' }, input, h('label', { for: id }, text));
    }),
  );
}

interface UnsentDevice {
  user_id: string;
  display_name: string;
  waiting: number;
  refused: number;
  reported_at: string;
}

/** `/staff/operations`: create / start / close operations; declare and lift disaster mode. */
export const operationsPage: PageFactory = (root, ctx) => {
  let districts: District[] = [];
  let ops: StaffOperation[] = [];
  let declarations: Declaration[] = [];
  let loadError: unknown = null;
  let opError: unknown = null;
  let declError: unknown = null;
  let actionError: unknown = null;
  let notice = '';
  let busy = false;

  const opForm: OperationForm = { kind: 'safety_check', mode: 'drill', name: '', districtIds: [], supportReasons: [], hazardKinds: [], firstReportMinutes: '', completionMinutes: '', start: false };
  const opDistricts = new Set<string>();
  const opReasons = new Set<string>();
  const opHazards = new Set<string>();
  // 訓練 first, like the operation form: declaring a real disaster is always a deliberate choice.
  const declForm: DeclarationForm = { mode: 'drill', reason: '', districtIds: [] };
  const declDistricts = new Set<string>();
  // Built once: re-rendering the forms must not throw away a drawn area or its map.
  const opPicker = polygonPicker(ctx.api, 'op-poly');
  const declPicker = polygonPicker(ctx.api, 'decl-poly');

  const gate = staffGate(root, ctx, '/staff/operations', 'staff.ops.title', () => void load());

  async function load(): Promise<void> {
    try {
      [districts, ops, declarations] = await Promise.all([
        ctx.api.get<District[]>('/api/districts'),
        ctx.api.get<StaffOperation[]>('/api/operations'),
        ctx.api.get<Declaration[]>('/api/disaster-declarations?active=true'),
      ]);
      loadError = null;
    } catch (err) {
      loadError = err;
    }
    render();
  }

  function districtName(id: string): string {
    return districts.find((d) => d.id === id)?.name ?? id;
  }

  async function createOperation(): Promise<void> {
    opForm.districtIds = [...opDistricts];
    opForm.supportReasons = [...opReasons];
    opForm.hazardKinds = [...opHazards];
    opForm.geometry = opPicker.geometry();
    if (opForm.mode === 'real') {
      const ok = await confirmDialog({
        title: t('staff.ops.confirmRealTitle'),
        body: [t('staff.ops.confirmRealBody'), opForm.name.trim()],
        confirmLabel: t('staff.ops.confirmReal'),
        acknowledge: t('staff.ops.confirmRealAck'),
        danger: true,
      });
      if (ok === null) return;
    }
    busy = true;
    opError = null;
    render();
    try {
      const op = await ctx.api.post<StaffOperation>('/api/operations', operationPayload(opForm));
      notice = t('staff.ops.created', { name: operationTitle(op) });
      opForm.name = '';
      opPicker.clear();
      await load();
    } catch (err) {
      opError = err;
    } finally {
      busy = false;
      render();
    }
  }

  /** Users whose devices last said they still hold records for the operation (counts only). */
  async function unsentDevices(op: StaffOperation): Promise<UnsentDevice[]> {
    try {
      return (await ctx.api.get<UnsentDevice[]>(`/api/operations/${op.id}/unsent-devices`)).filter((d) => d.waiting + d.refused > 0);
    } catch {
      return []; // the warning is a help; closing still works without it
    }
  }

  async function act(op: StaffOperation, action: 'start' | 'close'): Promise<void> {
    // Closing while devices still hold records refuses those records later: say so first (#17).
    const holding = action === 'close' ? await unsentDevices(op) : [];
    const ok = await confirmDialog({
      title: action === 'start' ? t('staff.ops.confirmStartTitle') : t('staff.ops.confirmCloseTitle'),
      body: [
        operationTitle(op),
        action === 'start' ? t('staff.ops.confirmStartBody') : t('staff.ops.confirmCloseBody'),
        ...(holding.length > 0
          ? [t('staff.ops.unsentWarning', { count: holding.length }),
             ...holding.map((d) => t('staff.ops.unsentDevice', { name: d.display_name, waiting: d.waiting, refused: d.refused, time: formatTime(d.reported_at) }))]
          : []),
      ],
      confirmLabel: action === 'start' ? t('staff.ops.start') : t('staff.ops.close'),
      acknowledge: action === 'start' && op.mode === 'real' ? t('staff.ops.confirmRealAck') : holding.length > 0 ? t('staff.ops.unsentAck') : undefined,
    });
    if (ok === null) return;
    actionError = null;
    try {
      const updated = await ctx.api.post<StaffOperation>(`/api/operations/${op.id}/${action}`);
      notice = action === 'start' ? t('staff.ops.started', { name: operationTitle(updated) }) : t('staff.ops.closed', { name: operationTitle(updated) });
      await load();
    } catch (err) {
      actionError = err;
      render();
    }
  }

  async function declare(): Promise<void> {
    declForm.districtIds = [...declDistricts];
    declForm.geometry = declPicker.geometry();
    let confirmed = false;
    if (declForm.mode === 'real') {
      const ok = await confirmDialog({
        title: t('staff.decl.confirmTitle'),
        body: [t('staff.decl.confirmBody1'), t('staff.decl.confirmBody2', { districts: [...declForm.districtIds.map(districtName), ...(declForm.geometry ? [t('staff.decl.polygon')] : [])].join('、') || '—' }), t('staff.reasonIs', { reason: declForm.reason.trim() })],
        confirmLabel: t('staff.decl.declare'),
        acknowledge: t('staff.decl.confirmAck'),
        danger: true,
      });
      if (ok === null) return;
      confirmed = true;
    }
    declError = null;
    busy = true;
    render();
    try {
      await ctx.api.post<Declaration>('/api/disaster-declarations', declarationPayload(declForm, confirmed));
      notice = t('staff.decl.declared');
      declForm.reason = '';
      declDistricts.clear();
      declPicker.clear();
      await load();
    } catch (err) {
      declError = err;
    } finally {
      busy = false;
      render();
    }
  }

  async function lift(d: Declaration): Promise<void> {
    const reason = await confirmDialog({
      title: t('staff.decl.liftTitle'),
      body: [t('staff.decl.liftBody'), d.reason],
      confirmLabel: t('staff.decl.lift'),
      input: { label: t('staff.decl.liftReason'), minLength: 2 },
    });
    if (reason === null) return;
    actionError = null;
    try {
      await ctx.api.post(`/api/disaster-declarations/${d.id}/lift`, { reason });
      notice = t('staff.decl.lifted');
      await load();
    } catch (err) {
      actionError = err;
      render();
    }
  }

  async function safetyCheck(d: Declaration): Promise<void> {
    const ok = await confirmDialog({
      title: t('staff.decl.checkTitle'),
      body: [t('staff.decl.checkBody'), d.reason],
      confirmLabel: t('staff.decl.check'),
    });
    if (ok === null) return;
    actionError = null;
    try {
      const op = await ctx.api.post<StaffOperation>(`/api/disaster-declarations/${d.id}/safety-check`, {});
      notice = t('staff.ops.started', { name: operationTitle(op) });
      await load();
    } catch (err) {
      actionError = err;
      render();
    }
  }

  function districtItems(): [string, string, number][] {
    return districtTree(districts).map(({ district, depth }) => [district.id, `${district.name}（${vocabLabel('district_levels', district.level)}）`, depth]);
  }

  function opFormSection(): HTMLElement {
    const fields = fieldProblemTexts(opError);
    const name = h('input', { type: 'text', id: 'op-name', value: opForm.name, required: true, 'aria-invalid': fields.has('name') ? 'true' : null, 'aria-describedby': fields.has('name') ? 'op-name-error' : null });
    name.addEventListener('input', () => (opForm.name = name.value));
    const first = h('input', { type: 'number', id: 'op-first', min: 1, value: opForm.firstReportMinutes, inputmode: 'numeric' });
    first.addEventListener('input', () => (opForm.firstReportMinutes = first.value));
    const completion = h('input', { type: 'number', id: 'op-completion', min: 1, value: opForm.completionMinutes, inputmode: 'numeric', 'aria-describedby': fields.has('completion_minutes') ? 'op-completion-error' : null });
    completion.addEventListener('input', () => (opForm.completionMinutes = completion.value));
    const start = h('input', { type: 'checkbox', id: 'op-start', checked: opForm.start });
    start.addEventListener('change', () => (opForm.start = start.checked));
    const form = h(
      'form',
      { class: 'staff-form', novalidate: true, 'aria-labelledby': 'op-form-title', 'data-form': 'operation' },
      h('h2', { id: 'op-form-title' }, t('staff.ops.createTitle')),
      opForm.mode === 'drill' ? h('p', { class: 'drill-banner' }, t('staff.ops.drillNote')) : h('p', { class: 'error' }, t('staff.ops.realNote')),
      h(
        'div',
        { class: 'staff-row' },
        radios('op-kind', 'staff.ops.kind', (['safety_check', 'watch_round'] as const).map((k) => [k, vocabLabel('operation_kinds', k)]), opForm.kind, (v) => (opForm.kind = v as OperationForm['kind'])),
        radios('op-mode', 'staff.ops.mode', [['drill', t('staff.mode.drill')], ['real', t('staff.mode.real')]], opForm.mode, (v) => {
          opForm.mode = v as OperationForm['mode'];
          render();
        }),
      ),
      h('div', { class: 'field' }, h('label', { for: 'op-name' }, t('staff.ops.name')), name, fields.has('name') ? h('p', { class: 'error', id: 'op-name-error' }, fields.get('name')!) : null),
      checkList('op-district', 'staff.ops.districts', districtItems(), opDistricts, fields.get('district_ids') ?? fields.get('geometry')),
      opPicker.element,
      h(
        'div',
        { class: 'staff-row' },
        checkList('op-reason', 'staff.ops.reasons', vocabOptions('support_reasons'), opReasons, fields.get('support_reasons')),
        checkList('op-hazard', 'staff.ops.hazards', hazardOptions(), opHazards, fields.get('hazard_kinds')),
      ),
      h(
        'div',
        { class: 'staff-row' },
        h('div', { class: 'field' }, h('label', { for: 'op-first' }, t('staff.ops.firstReport')), first, fields.has('first_report_minutes') ? h('p', { class: 'error' }, fields.get('first_report_minutes')!) : null),
        h('div', { class: 'field' }, h('label', { for: 'op-completion' }, t('staff.ops.completion')), completion, fields.has('completion_minutes') ? h('p', { class: 'error', id: 'op-completion-error' }, fields.get('completion_minutes')!) : null),
      ),
      h('div', { class: 'choice' }, start, h('label', { for: 'op-start' }, t('staff.ops.startNow'))),
      opError ? errorBox(opError) : null,
      h('button', { type: 'submit', class: 'primary', disabled: busy }, t('staff.ops.create')),
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void createOperation();
    });
    return form;
  }

  function opsTable(): HTMLElement {
    if (ops.length === 0) return h('p', {}, t('ops.noneYet'));
    return h(
      'div',
      { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': t('staff.ops.listTitle') },
      h(
        'table',
        { class: 'staff-table', 'data-ops-table': 'true' },
        h('caption', {}, t('staff.newestFirst')),
        h('thead', {}, h('tr', {}, ...(['staff.ops.name', 'staff.colKind', 'staff.ops.colMode', 'common.status', 'staff.ops.colTargets', 'staff.ops.colStarted', 'staff.colActions'] as const).map((k) => h('th', { scope: 'col' }, t(k))))),
        h(
          'tbody',
          {},
          ...ops.map((op) => {
            const actions: HTMLElement[] = [];
            if (op.status === 'draft') {
              const b = h('button', { type: 'button', class: 'primary', 'data-action': 'start' }, t('staff.ops.start'));
              b.addEventListener('click', () => void act(op, 'start'));
              actions.push(b);
            }
            if (op.status === 'active') {
              const b = h('button', { type: 'button', class: 'secondary', 'data-action': 'close' }, t('staff.ops.close'));
              b.addEventListener('click', () => void act(op, 'close'));
              actions.push(b);
            }
            return h(
              'tr',
              { 'data-op': op.id, 'data-status': op.status },
              h('th', { scope: 'row' }, op.status === 'draft' ? operationTitle(op) : appLink(ctx, `/console/op/${encodeURIComponent(op.id)}`, operationTitle(op), { 'data-console-link': op.id })),
              h('td', {}, vocabLabel('operation_kinds', op.kind)),
              h('td', {}, modeTag(op.mode)),
              h('td', {}, t(STATUS_LABEL[op.status] ?? 'staff.ops.status.draft')),
              h('td', { class: 'num' }, String(op.targets)),
              h('td', {}, formatTime(op.started_at)),
              h('td', {}, h('div', { class: 'actions' }, ...actions)),
            );
          }),
        ),
      ),
    );
  }

  function declFormSection(): HTMLElement {
    const fields = fieldProblemTexts(declError);
    const reason = h('textarea', { id: 'decl-reason', rows: 3, required: true, 'aria-invalid': fields.has('reason') ? 'true' : null, 'aria-describedby': 'decl-reason-hint' });
    reason.value = declForm.reason;
    reason.addEventListener('input', () => (declForm.reason = reason.value));
    const form = h(
      'form',
      { class: 'staff-form', novalidate: true, 'aria-labelledby': 'decl-form-title', 'data-form': 'declaration' },
      h('h2', { id: 'decl-form-title' }, t('staff.decl.createTitle')),
      h('p', {}, t('staff.decl.lead')),
      radios('decl-mode', 'staff.ops.mode', [['drill', t('staff.mode.drill')], ['real', t('staff.mode.real')]], declForm.mode, (v) => (declForm.mode = v as DeclarationForm['mode'])),
      h('div', { class: 'field' }, h('label', { for: 'decl-reason' }, t('staff.decl.reason')), reason, h('p', { class: 'hint', id: 'decl-reason-hint' }, t('staff.decl.reasonHint')), fields.has('reason') ? h('p', { class: 'error' }, fields.get('reason')!) : null),
      checkList('decl-district', 'staff.ops.districts', districtItems(), declDistricts, fields.get('district_ids') ?? fields.get('geometry')),
      declPicker.element,
      declError && fields.size === 0 ? errorBox(declError) : null,
      fields.has('confirm') ? h('p', { class: 'error' }, fields.get('confirm')!) : null,
      h('button', { type: 'submit', class: 'primary', disabled: busy }, t('staff.decl.declare')),
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void declare();
    });
    return form;
  }

  function declList(): HTMLElement {
    return h(
      'section',
      { 'aria-labelledby': 'decl-list-title', 'data-declarations': 'true' },
      h('h2', { id: 'decl-list-title' }, t('staff.decl.activeTitle')),
      declarations.length === 0
        ? h('p', {}, t('staff.decl.none'))
        : h(
            'ul',
            { class: 'op-list' },
            ...declarations.map((d) => {
              const liftBtn = h('button', { type: 'button', class: 'secondary', 'data-action': 'lift' }, t('staff.decl.lift'));
              liftBtn.addEventListener('click', () => void lift(d));
              const checkBtn = h('button', { type: 'button', class: 'primary', 'data-action': 'safety-check' }, t('staff.decl.check'));
              checkBtn.addEventListener('click', () => void safetyCheck(d));
              return h(
                'li',
                { class: 'decl', 'data-declaration': d.id },
                h('p', {}, modeTag(d.mode), ' ', h('strong', {}, d.reason)),
                h('p', { class: 'hint' }, t('staff.decl.meta', { at: formatTime(d.declared_at), districts: d.district_ids.map(districtName).join('、') || t('staff.decl.polygon') })),
                h('div', { class: 'actions' }, checkBtn, liftBtn),
              );
            }),
          ),
    );
  }

  function render(): void {
    gate.render(() =>
      loadError
        ? [errorBox(loadError)]
        : [
            notice ? h('p', { class: 'ok-note', role: 'status', 'data-notice': 'true' }, notice) : null,
            actionError ? errorBox(actionError) : null,
            declList(),
            h('section', { 'aria-labelledby': 'ops-list-title' }, h('h2', { id: 'ops-list-title' }, t('staff.ops.listTitle')), opsTable()),
            opFormSection(),
            declFormSection(),
          ],
    );
  }

  render();
  return {
    render,
    dispose: () => {
      gate.dispose();
      opPicker.dispose();
      declPicker.dispose();
    },
  } satisfies Page;
};
