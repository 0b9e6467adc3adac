import { getLang, t, type MessageKey } from '../i18n';
import type { Page, PageFactory } from '../router';
import { h } from '../ui/dom';
import { postForm, StaffApiError } from './api';
import {
  canCommit,
  groupIssues,
  IMPORT_KINDS,
  importForm,
  importPath,
  KIND_ACCEPT,
  KIND_LABEL,
  reportFromProblemBody,
  type ImportKind,
  type ImportOptions,
  type ImportReport,
} from './imports-model';
import { errorBox, staffGate } from './shell';
import { vocabOptions } from '../vocab';

type Step = 'choose' | 'checking' | 'report' | 'committing' | 'done';

/** The import wizard: kind → file → dry-run report → commit (only when clean) → result. */
export const importsPage: PageFactory = (root, ctx) => {
  let step: Step = 'choose';
  let kind: ImportKind = 'roster';
  const options: ImportOptions = { level: 'branch', hazardKind: 'flood', municipality: '', consentSource: '', parentCode: '' };
  let file: File | null = null;
  let report: ImportReport | null = null;
  let error: unknown = null;

  // One persistent file input: re-rendering must not drop the user's chosen file.
  const fileInput = h('input', { type: 'file', id: 'import-file', name: 'file', 'aria-describedby': 'import-file-hint', required: true });
  fileInput.addEventListener('change', () => {
    file = fileInput.files?.[0] ?? null;
    report = null;
    error = null;
    step = 'choose';
    render();
  });

  const gate = staffGate(root, ctx, '/staff/imports', 'staff.imports.title', () => render());

  function setKind(k: ImportKind): void {
    kind = k;
    report = null;
    error = null;
    step = 'choose';
    render();
  }

  async function run(dryRun: boolean): Promise<void> {
    if (!file) {
      error = null;
      render();
      return;
    }
    step = dryRun ? 'checking' : 'committing';
    error = null;
    render();
    try {
      report = await postForm<ImportReport>(ctx.api, importPath(kind, dryRun), importForm(kind, options, file));
      step = dryRun ? 'report' : 'done';
    } catch (err) {
      const refused = err instanceof StaffApiError ? reportFromProblemBody(err.body) : null;
      if (refused) report = refused;
      error = err;
      step = report ? 'report' : 'choose';
    }
    render();
  }

  function reset(): void {
    step = 'choose';
    report = null;
    error = null;
    file = null;
    fileInput.value = '';
    render();
  }

  function select(id: string, labelKey: MessageKey, choices: [string, string][], value: string, onChange: (v: string) => void): HTMLElement {
    const sel = h('select', { id, name: id }, ...choices.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
    sel.addEventListener('change', () => onChange(sel.value));
    return h('div', { class: 'field' }, h('label', { for: id }, t(labelKey)), sel);
  }

  function text(id: string, labelKey: MessageKey, value: string, onInput: (v: string) => void, hintKey?: MessageKey): HTMLElement {
    const input = h('input', { type: 'text', id, name: id, value, 'aria-describedby': hintKey ? `${id}-hint` : null });
    input.addEventListener('input', () => onInput(input.value));
    return h('div', { class: 'field' }, h('label', { for: id }, t(labelKey)), input, hintKey ? h('p', { class: 'hint', id: `${id}-hint` }, t(hintKey)) : null);
  }

  function kindOptions(): HTMLElement | null {
    switch (kind) {
      case 'roster':
        return text('consent-source', 'staff.imports.consentSource', options.consentSource ?? '', (v) => (options.consentSource = v), 'staff.imports.consentSourceHint');
      case 'districts':
        return h(
          'div',
          { class: 'staff-row' },
          select('district-level', 'staff.imports.level', vocabOptions('district_levels'), options.level ?? 'branch', (v) => (options.level = v)),
          text('parent-code', 'staff.imports.parentCode', options.parentCode ?? '', (v) => (options.parentCode = v)),
        );
      case 'hazard-zones':
        return select('hazard-kind', 'staff.imports.hazardKind', vocabOptions('hazard_zone_kinds'), options.hazardKind ?? 'flood', (v) => (options.hazardKind = v));
      case 'shelters':
        return text('municipality', 'staff.imports.municipality', options.municipality ?? '', (v) => (options.municipality = v), 'staff.imports.municipalityHint');
    }
  }

  function chooser(): HTMLElement {
    const busy = step === 'checking' || step === 'committing';
    const radios = IMPORT_KINDS.map((k) => {
      const input = h('input', { type: 'radio', name: 'import-kind', id: `kind-${k}`, value: k, checked: k === kind, disabled: busy });
      input.addEventListener('change', () => setKind(k));
      return h('div', { class: 'choice' }, input, h('label', { for: `kind-${k}` }, t(KIND_LABEL[k])));
    });
    fileInput.accept = KIND_ACCEPT[kind];
    fileInput.disabled = busy;
    const check = h('button', { type: 'submit', class: 'primary', disabled: busy || !file, 'data-action': 'dry-run' }, step === 'checking' ? t('staff.imports.checking') : t('staff.imports.check'));
    const form = h(
      'form',
      { class: 'staff-form', novalidate: true },
      h('fieldset', {}, h('legend', {}, t('staff.imports.step1')), ...radios),
      h(
        'fieldset',
        {},
        h('legend', {}, t('staff.imports.step2')),
        kindOptions(),
        h('div', { class: 'field' }, h('label', { for: 'import-file' }, t('staff.imports.file')), fileInput, h('p', { class: 'hint', id: 'import-file-hint' }, t('staff.imports.fileHint'))),
      ),
      check,
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void run(true);
    });
    return form;
  }

  function summary(r: ImportReport): HTMLElement {
    const rows: [MessageKey, number][] = [
      ['staff.imports.totalRows', r.total_rows],
      [r.dry_run ? 'staff.imports.wouldCreate' : 'staff.imports.created', r.created],
      [r.dry_run ? 'staff.imports.wouldUpdate' : 'staff.imports.updated', r.updated],
      ['staff.imports.skipped', r.skipped],
      ['staff.imports.errors', r.errors],
      ['staff.imports.warnings', r.warnings],
    ];
    if (r.households_created !== undefined && r.households_created !== null) {
      rows.splice(2, 0, [r.dry_run ? 'staff.imports.wouldCreateHouseholds' : 'staff.imports.householdsCreated', r.households_created]);
    }
    return h('dl', { class: 'facts', 'data-report-summary': 'true' }, ...rows.flatMap(([key, n]) => [h('dt', {}, t(key)), h('dd', { 'data-count': key.split('.').pop() }, String(n))]));
  }

  function issueTable(r: ImportReport): HTMLElement {
    if (r.issues.length === 0) return h('p', { 'data-no-issues': 'true' }, t('staff.imports.noIssues'));
    const lang = getLang();
    const body = groupIssues(r.issues).flatMap((g) =>
      g.issues.map((issue, i) =>
        h(
          'tr',
          { class: issue.severity === 'error' ? 'issue-error' : 'issue-warning', 'data-code': issue.code },
          i === 0 ? h('th', { scope: 'rowgroup', rowspan: String(g.issues.length) }, g.row === null ? t('staff.imports.wholeFile') : String(g.row)) : null,
          h('td', {}, issue.column ?? '—'),
          h('td', {}, issue.severity === 'error' ? t('staff.imports.sevError') : t('staff.imports.sevWarning')),
          h('td', {}, h('code', {}, issue.code)),
          h('td', {}, issue.message[lang] || issue.message.ja),
        ),
      ),
    );
    return h(
      'div',
      { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': t('staff.imports.issuesCaption') },
      h(
        'table',
        { class: 'staff-table', 'data-issues': 'true' },
        h('caption', {}, t('staff.imports.issuesCaption')),
        h(
          'thead',
          {},
          h('tr', {}, ...(['staff.imports.colRow', 'staff.imports.colColumn', 'staff.imports.colSeverity', 'staff.colCode', 'staff.imports.colMessage'] as const).map((k) => h('th', { scope: 'col' }, t(k)))),
        ),
        h('tbody', {}, ...body),
      ),
    );
  }

  function approximate(r: ImportReport): HTMLElement | null {
    if (!r.approximate_locations?.length) return null;
    return h(
      'section',
      { 'aria-labelledby': 'approx-title' },
      h('h2', { id: 'approx-title' }, t('staff.imports.approximate')),
      h('p', { class: 'hint' }, t('staff.imports.approximateHint')),
      h('ul', {}, ...r.approximate_locations.map((a) => h('li', {}, t('staff.imports.approximateRow', { row: a.row, address: a.address, town: a.town ?? '—' })))),
    );
  }

  function reportSection(r: ImportReport): HTMLElement {
    const ok = canCommit(r);
    const commit = h('button', { type: 'button', class: 'primary', disabled: !ok || step === 'committing', 'aria-describedby': 'commit-hint', 'data-action': 'commit' }, step === 'committing' ? t('staff.imports.committing') : t('staff.imports.commit'));
    commit.addEventListener('click', () => void run(false));
    const again = h('button', { type: 'button', class: 'secondary' }, t('staff.imports.again'));
    again.addEventListener('click', reset);
    const refused = !r.dry_run && !r.committed;
    return h(
      'section',
      { class: 'import-report', 'aria-labelledby': 'report-title', 'data-step': 'report' },
      h('h2', { id: 'report-title' }, refused ? t('staff.imports.refusedTitle') : t('staff.imports.reportTitle')),
      r.errors > 0
        ? h('p', { class: 'error', role: 'alert', 'data-outcome': 'errors' }, t('staff.imports.hasErrors', { errors: r.errors }))
        : h('p', { class: 'ok-note', role: 'status', 'data-outcome': 'clean' }, t('staff.imports.clean')),
      summary(r),
      issueTable(r),
      approximate(r),
      h('p', { class: 'hint', id: 'commit-hint' }, ok ? t('staff.imports.commitHint') : t('staff.imports.commitBlocked')),
      h('div', { class: 'actions' }, commit, again),
    );
  }

  function doneSection(r: ImportReport): HTMLElement {
    const again = h('button', { type: 'button', class: 'primary' }, t('staff.imports.another'));
    again.addEventListener('click', reset);
    return h(
      'section',
      { class: 'import-report', 'aria-labelledby': 'done-title', 'data-step': 'done' },
      h('h2', { id: 'done-title' }, t('staff.imports.doneTitle')),
      h('p', { class: 'ok-note', role: 'status', 'data-outcome': 'committed' }, t('staff.imports.done', { created: r.created, updated: r.updated })),
      summary(r),
      issueTable(r),
      approximate(r),
      again,
    );
  }

  function render(): void {
    gate.render(() => [
      h('p', {}, t('staff.imports.lead')),
      chooser(),
      error && !(error instanceof StaffApiError && reportFromProblemBody(error.body)) ? errorBox(error) : null,
      report && step === 'done' ? doneSection(report) : report ? reportSection(report) : null,
    ]);
  }

  render();
  return { render, dispose: () => gate.dispose() } satisfies Page;
};
