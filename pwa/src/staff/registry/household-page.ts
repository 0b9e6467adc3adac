
import { t, type MessageKey } from '../../i18n';
import type { AppContext, Page, PageFactory } from '../../router';
import { appLink, h } from '../../ui/dom';
import { fieldProblemTexts } from '../../ui/problem-text';
import { checkboxes, selectField, textField } from '../forms';
import { districtTree, reasonLabelKey, SUPPORT_REASONS, type District } from '../operations-model';
import {
  consentActive,
  consentChanges,
  DATASETS,
  EMPTY_PERSON,
  fieldsFor,
  householdPayload,
  MEDICAL_DEVICES,
  MOBILITY,
  personFormFrom,
  personPayload,
  RECIPIENT_CLASSES,
  SEXES,
  SHELTER_HAZARDS,
  areaFrom,
  districtPayload,
  emptyHazardZoneForm,
  hazardZonePayload,
  type HazardZoneFormValues,
  emptyDistrictForm,
  parseRing,
  type DistrictFormValues,
  SHELTER_KINDS,
  emptyShelterForm,
  shelterPayload,
  supportersFrom,
  supportersHidden,
  supportersPayload,
  todayJst,
  type ContactFormValues,
  type SupporterFormValues,
  type ShelterFormValues,
  type HouseholdFormValues,
  type HouseholdOut,
  type PersonFormValues,
  type PersonOut,
} from '../registry-model';
import { pointPicker } from '../point-picker';
import { polygonPicker, type PolygonPickerLabels } from '../polygon-picker';
import { errorBox, staffGate } from '../shell';

/** The area of a district or hazard zone (not an operation's scope): the picker's wording for it. */
const AREA_LABELS: PolygonPickerLabels = { open: 'staff.reg.drawArea', hint: 'staff.reg.drawAreaHint', failed: 'staff.reg.drawAreaFailed' };

const TABS: [string, MessageKey][] = [
  ['/staff/registry', 'staff.reg.tab.districts'],
  ['/staff/registry/households', 'staff.reg.tab.households'],
  ['/staff/registry/watchers', 'staff.reg.tab.watchers'],
  ['/staff/registry/shelters', 'staff.reg.tab.shelters'],
  ['/staff/registry/hazard-zones', 'staff.reg.tab.hazardZones'],
];

function tabs(ctx: AppContext, current: string): HTMLElement {
  return h(
    'nav',
    { class: 'reg-tabs', 'aria-label': t('staff.reg.tabs') },
    h('ul', { class: 'actions' }, ...TABS.map(([path, key]) => h('li', {}, appLink(ctx, path, t(key), { class: 'button secondary', ...(path === current ? { 'aria-current': 'page' } : {}) })))),
  );
}

function levelLabel(level: string): string {
  return t(level === 'area' ? 'staff.level.area' : level === 'branch' ? 'staff.level.branch' : 'staff.level.unit');
}

function reasonsText(codes: readonly string[] | null | undefined): string {
  if (!codes) return t('staff.reg.notDisclosed');
  if (codes.length === 0) return '—';
  return codes.map((c) => {
    const key = reasonLabelKey(c);
    return key ? t(key) : c;
  }).join('・');
}

function table(captionKey: MessageKey, heads: MessageKey[], rows: HTMLElement[], attrs: Record<string, string> = {}): HTMLElement {
  return h(
    'div',
    { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': t(captionKey) },
    h('table', { class: 'staff-table', ...attrs }, h('caption', {}, t(captionKey)), h('thead', {}, h('tr', {}, ...heads.map((k) => h('th', { scope: 'col' }, t(k))))), h('tbody', {}, ...rows)),
  );
}

/** A small list page: load once, render rows; `extra` adds forms under the table. */
function simplePage<T>(
  path: string,
  load: (ctx: AppContext) => Promise<T>,
  body: (ctx: AppContext, data: T, reload: () => Promise<void>, rerender: () => void) => (Node | null)[],
): PageFactory {
  return (root, ctx) => {
    let data: T | null = null;
    let error: unknown = null;
    const gate = staffGate(root, ctx, '/staff/registry', 'staff.reg.title', () => void reload());
    async function reload(): Promise<void> {
      try {
        data = await load(ctx);
        error = null;
      } catch (err) {
        error = err;
      }
      render();
    }
    function render(): void {
      gate.render(() => [tabs(ctx, path), error ? errorBox(error) : null, data === null ? (error ? null : h('p', { role: 'status' }, t('home.loading'))) : null, ...(data !== null ? body(ctx, data, reload, render) : [])]);
    }
    render();
    return { render, dispose: () => gate.dispose() } satisfies Page;
  };
}

// ---- districts ---------------------------------------------------------------------------

interface Count { district_id: string | null; households: number; people: number }

export const districtsPage: PageFactory = (root, ctx) => {
  let editing: string | null = null;
  const values = { name: '', kana: '', radius: '' };
  let editError: unknown = null;
  const nd: DistrictFormValues = emptyDistrictForm();
  const ndArea = { points: '', unreadable: false };
  let ndError: unknown = null;
  let ndCreated = '';
  const picker = polygonPicker(ctx.api, 'nd-poly', AREA_LABELS);
  const page = simplePage(
    '/staff/registry',
    async (c) => {
      const [districts, counts] = await Promise.all([c.api.get<District[]>('/api/districts'), c.api.get<Count[]>('/api/registry/counts')]);
      return { districts, counts };
    },
    (c, { districts, counts }, reload, rerender) => {
      const byId = new Map(counts.map((x) => [x.district_id, x]));
      const save = (d: District) => {
        const radius = values.radius.trim();
        const body = { name: values.name.trim(), kana: values.kana.trim(), walking_radius_m: /^\d+$/.test(radius) ? Number(radius) : radius };
        c.api.request('PATCH', `/api/districts/${d.id}`, body).then(
          () => {
            editing = null;
            editError = null;
            void reload();
          },
          (err: unknown) => {
            editError = err;
            rerender();
          },
        );
      };
      const rows = districtTree(districts).flatMap(({ district: d, depth }) => {
        const editBtn = h('button', { type: 'button', class: 'secondary', 'aria-expanded': editing === d.id ? 'true' : 'false', 'aria-label': t('staff.reg.editDistrictOf', { name: d.name }), 'data-action': 'edit-district' }, t('staff.reg.edit'));
        editBtn.addEventListener('click', () => {
          editing = editing === d.id ? null : d.id;
          Object.assign(values, { name: d.name, kana: d.kana ?? '', radius: String(d.walking_radius_m) });
          editError = null;
          rerender();
        });
        const row = h(
          'tr',
          { 'data-district': d.id },
          h('td', {}, d.code),
          h('th', { scope: 'row', style: depth ? `padding-left:${0.5 + depth * 1.25}rem` : null }, d.name, d.kana ? h('span', { class: 'hint' }, `（${d.kana}）`) : null),
          h('td', {}, levelLabel(d.level)),
          h('td', { class: 'num' }, t('staff.reg.metres', { m: d.walking_radius_m })),
          h('td', { class: 'num' }, String(byId.get(d.id)?.households ?? 0)),
          h('td', {}, appLink(c, `/staff/print/district/${d.id}`, t('staff.reg.printList'), { 'aria-label': t('staff.reg.printListOf', { name: d.name }) })),
          h('td', {}, editBtn),
        );
        if (editing !== d.id) return [row];
        const errs = fieldsFor(fieldProblemTexts(editError));
        const form = h(
          'form',
          { class: 'staff-form', novalidate: true, 'aria-label': t('staff.reg.editDistrictOf', { name: d.name }), 'data-form': 'district' },
          h(
            'div',
            { class: 'staff-row' },
            textField('d-name', 'staff.reg.name', values.name, (v) => (values.name = v), { error: errs.get('name') }),
            textField('d-kana', 'staff.reg.kana', values.kana, (v) => (values.kana = v), { error: errs.get('kana'), hintKey: 'staff.reg.kanaHint' }),
            textField('d-radius', 'staff.reg.radius', values.radius, (v) => (values.radius = v), { error: errs.get('walking_radius_m'), inputmode: 'numeric' }),
          ),
          editError && errs.size === 0 ? errorBox(editError) : null,
          h('button', { type: 'submit', class: 'primary' }, t('staff.reg.save')),
        );
        form.addEventListener('submit', (ev) => {
          ev.preventDefault();
          save(d);
        });
        return [row, h('tr', { class: 'edit-row' }, h('td', { colspan: '7' }, form))];
      });
      return [
        h('h2', {}, t('staff.reg.tab.districts')),
        table(
          'staff.reg.districtsCaption',
          ['staff.reg.colCode', 'staff.reg.colName', 'staff.reg.colLevel', 'staff.reg.colRadius', 'staff.reg.colHouseholds', 'staff.reg.colPrint', 'staff.reg.colActions'],
          rows,
          { 'data-districts': 'true' },
        ),
        districtCreateForm(c, districts, reload, rerender),
      ];
    },
  )(root, ctx);

  function districtCreateForm(c: AppContext, districts: District[], reload: () => Promise<void>, rerender: () => void): HTMLElement {
    const errs = fieldsFor(fieldProblemTexts(ndError));
    const areaError = ndArea.unreadable ? t('staff.reg.areaUnreadable') : errs.get('geometry');
    const f = h(
      'form',
      { class: 'staff-form', novalidate: true, 'aria-labelledby': 'nd-title', 'data-form': 'new-district' },
      h('h2', { id: 'nd-title' }, t('staff.reg.createDistrict')),
      h('div', { class: 'staff-row' },
        textField('nd-code', 'staff.reg.districtCode', nd.code, (v) => (nd.code = v), { error: errs.get('code'), required: true }),
        textField('nd-name', 'staff.reg.districtName', nd.name, (v) => (nd.name = v), { error: errs.get('name'), required: true }),
        textField('nd-kana', 'staff.reg.kana', nd.kana, (v) => (nd.kana = v), { error: errs.get('kana'), hintKey: 'staff.reg.kanaHint' })),
      h('div', { class: 'staff-row' },
        selectField('nd-level', 'staff.reg.level', ['area', 'branch', 'unit'].map((l) => [l, levelLabel(l)]), nd.level, (v) => (nd.level = v), errs.get('level')),
        selectField('nd-parent', 'staff.reg.parent', [['', t('staff.reg.parentNone')], ...districtTree(districts).map(({ district: d, depth }) => [d.id, `${'　'.repeat(depth)}${d.name}`] as [string, string])], nd.parentId, (v) => (nd.parentId = v), errs.get('parent_id')),
        textField('nd-radius', 'staff.reg.radius', nd.radius, (v) => (nd.radius = v), { error: errs.get('walking_radius_m'), inputmode: 'numeric' })),
      h('fieldset', {}, h('legend', {}, t('staff.reg.area')),
        picker.element,
        textField('nd-points', 'staff.reg.areaPoints', ndArea.points, (v) => (ndArea.points = v), { type: 'textarea', error: areaError, hintKey: 'staff.reg.areaPointsHint' })),
      ndError && errs.size === 0 ? errorBox(ndError) : null,
      (ndError && errs.size > 0) || ndArea.unreadable ? h('p', { class: 'error', role: 'alert' }, t('staff.reg.fixFields')) : null,
      ndCreated ? h('p', { class: 'ok-note', role: 'status' }, t('staff.reg.districtCreated', { name: ndCreated })) : null,
      h('button', { type: 'submit', class: 'primary' }, t('staff.reg.register')),
    );
    f.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const typed = parseRing(ndArea.points);
      ndArea.unreadable = typed === null;
      if (typed === null) {
        ndError = null;
        ndCreated = '';
        rerender();
        return;
      }
      c.api.post<District>('/api/districts', districtPayload(nd, areaFrom(picker.geometry(), typed))).then(
        (d) => {
          ndError = null;
          ndCreated = d.name;
          Object.assign(nd, emptyDistrictForm());
          ndArea.points = '';
          picker.clear();
          void reload();
        },
        (err: unknown) => {
          ndError = err;
          ndCreated = '';
          rerender();
        },
      );
    });
    return f;
  }

  return { render: page.render, dispose: () => { picker.dispose(); page.dispose?.(); } } satisfies Page;
};

// ---- households ---------------------------------------------------------------------------

const PAGE = 20;

export const householdsPage: PageFactory = (root, ctx) => {
  let districts: District[] = [];
  let items: HouseholdOut[] = [];
  let total = 0;
  let offset = 0;
  let error: unknown = null;
  let createError: unknown = null;
  let created: HouseholdOut | null = null;
  let loading = true;
  const filter = { q: '', district: '', reason: '' };
  const form: HouseholdFormValues = { address: '', lon: '', lat: '', town: '', notes: '', person: { ...EMPTY_PERSON, supportReasons: [], medicalDevices: [] } };

  const gate = staffGate(root, ctx, '/staff/registry', 'staff.reg.title', () => void start());

  async function start(): Promise<void> {
    try {
      districts = await ctx.api.get<District[]>('/api/districts');
    } catch (err) {
      error = err;
    }
    await load();
  }

  async function load(): Promise<void> {
    loading = true;
    render();
    const q = new URLSearchParams({ offset: String(offset), limit: String(PAGE) });
    if (filter.q.trim()) q.set('q', filter.q.trim());
    if (filter.district) q.set('district_id', filter.district);
    if (filter.reason) q.set('support_reason', filter.reason);
    try {
      const page = await ctx.api.get<{ items: HouseholdOut[]; total: number }>(`/api/households?${q}`);
      items = page.items;
      total = page.total;
      error = null;
    } catch (err) {
      error = err;
    }
    loading = false;
    render();
  }

  async function create(): Promise<void> {
    createError = null;
    try {
      created = await ctx.api.post<HouseholdOut>('/api/households', householdPayload(form));
      Object.assign(form, { address: '', lon: '', lat: '', town: '', notes: '', person: { ...EMPTY_PERSON, supportReasons: [], medicalDevices: [] } });
      await load();
    } catch (err) {
      createError = err;
      render();
    }
  }

  const districtName = (id: string | null) => (id ? districts.find((d) => d.id === id)?.name ?? '—' : '—');

  function filters(): HTMLElement {
    const f = h(
      'form',
      { class: 'staff-form', role: 'search', 'aria-label': t('staff.reg.search') },
      h(
        'div',
        { class: 'staff-row' },
        textField('hh-q', 'staff.reg.q', filter.q, (v) => (filter.q = v), { hintKey: 'staff.reg.qHint' }),
        selectField('hh-district', 'staff.reg.district', [['', t('staff.audit.any')], ...districtTree(districts).map(({ district: d, depth }) => [d.id, `${'　'.repeat(depth)}${d.name}`] as [string, string])], filter.district, (v) => (filter.district = v)),
        selectField('hh-reason', 'staff.reg.reason', [['', t('staff.audit.any')], ...SUPPORT_REASONS.map(([c, k]) => [c, t(k)] as [string, string])], filter.reason, (v) => (filter.reason = v)),
      ),
      h('button', { type: 'submit', class: 'primary' }, t('staff.reg.searchButton')),
    );
    f.addEventListener('submit', (ev) => {
      ev.preventDefault();
      offset = 0;
      void load();
    });
    return f;
  }

  function list(): HTMLElement {
    if (items.length === 0) return h('p', {}, loading ? t('home.loading') : t('staff.reg.noHouseholds'));
    return table(
      'staff.reg.householdsCaption',
      ['staff.reg.colAddress', 'staff.reg.colPeople', 'staff.reg.colReasons', 'staff.reg.colDistrict', 'staff.reg.colLocation'],
      items.map((x) =>
        h(
          'tr',
          { 'data-household': x.id },
          h('th', { scope: 'row' }, appLink(ctx, `/staff/registry/households/${x.id}`, x.address)),
          h('td', {}, ...x.people.flatMap((p, i) => [i ? h('br') : null, `${p.name}（${p.kana || '—'}）`])),
          h('td', {}, ...x.people.flatMap((p, i) => [i ? h('br') : null, reasonsText(p.support_reasons)])),
          h('td', {}, districtName(x.district_id)),
          h('td', {}, x.location_approximate ? t('staff.reg.approximate') : t('staff.reg.exact')),
        ),
      ),
      { 'data-households': 'true' },
    );
  }

  function pager(): HTMLElement {
    const prev = h('button', { type: 'button', class: 'secondary', disabled: offset === 0 || loading }, t('staff.reg.prev'));
    prev.addEventListener('click', () => {
      offset = Math.max(0, offset - PAGE);
      void load();
    });
    const next = h('button', { type: 'button', class: 'secondary', disabled: offset + PAGE >= total || loading }, t('staff.reg.next'));
    next.addEventListener('click', () => {
      offset += PAGE;
      void load();
    });
    return h('nav', { class: 'pager', 'aria-label': t('staff.audit.paging') }, prev, h('span', { role: 'status' }, t('staff.reg.range', { from: total ? offset + 1 : 0, to: Math.min(offset + PAGE, total), total })), next);
  }

  function createForm(): HTMLElement {
    const all = fieldProblemTexts(createError);
    const hf = fieldsFor(all);
    const pf = fieldsFor(all, 'people[0].');
    const f = h(
      'form',
      { class: 'staff-form', novalidate: true, 'aria-labelledby': 'hh-create-title', 'data-form': 'household' },
      h('h2', { id: 'hh-create-title' }, t('staff.reg.createHousehold')),
      h(
        'div',
        { class: 'staff-row' },
        textField('hh-address', 'staff.reg.address', form.address, (v) => (form.address = v), { error: hf.get('address'), required: true }),
        textField('hh-town', 'staff.reg.town', form.town, (v) => (form.town = v), { error: hf.get('town') }),
      ),
      h(
        'div',
        { class: 'staff-row' },
        textField('hh-lat', 'staff.reg.lat', form.lat, (v) => (form.lat = v), { error: hf.get('lat'), inputmode: 'decimal', required: true }),
        textField('hh-lon', 'staff.reg.lon', form.lon, (v) => (form.lon = v), { error: hf.get('lon'), inputmode: 'decimal', required: true, hintKey: 'staff.reg.lonHint' }),
      ),
      personFields('hh-p', form.person, pf),
      createError && all.size === 0 ? errorBox(createError) : null,
      createError && all.size > 0 ? h('p', { class: 'error', role: 'alert' }, t('staff.reg.fixFields')) : null,
      h('button', { type: 'submit', class: 'primary' }, t('staff.reg.register')),
    );
    f.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void create();
    });
    return f;
  }

  function render(): void {
    gate.render(() => [
      tabs(ctx, '/staff/registry/households'),
      filters(),
      error ? errorBox(error) : null,
      created ? h('p', { class: 'ok-note', role: 'status' }, t('staff.reg.created', { address: created.address })) : null,
      list(),
      pager(),
      createForm(),
    ]);
  }

  render();
  return { render, dispose: () => gate.dispose() } satisfies Page;
};

/** Messages for one nested row: `emergency_contacts[1].phone` → `phone` for prefix `emergency_contacts[1].`. */
function nestedFields(all: Map<string, string>, prefix: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [field, text] of all) {
    const name = field.replace(/^\$\./, '');
    if (name.startsWith(prefix)) out.set(name.slice(prefix.length), text);
  }
  return out;
}

/** The person fields, shared by "new household" and "add a person"; `errors` keyed by API field. */
function personFields(prefix: string, p: PersonFormValues, errors: Map<string, string>): HTMLElement {
  return h(
    'fieldset',
    {},
    h('legend', {}, t('staff.reg.person')),
    h(
      'div',
      { class: 'staff-row' },
      textField(`${prefix}-name`, 'staff.reg.name', p.name, (v) => (p.name = v), { error: errors.get('name') }),
      textField(`${prefix}-kana`, 'staff.reg.kana', p.kana, (v) => (p.kana = v), { error: errors.get('kana'), hintKey: 'staff.reg.kanaHint' }),
    ),
    h(
      'div',
      { class: 'staff-row' },
      textField(`${prefix}-birth`, 'staff.reg.birthDate', p.birthDate, (v) => (p.birthDate = v), { type: 'date', error: errors.get('birth_date') }),
      selectField(`${prefix}-sex`, 'staff.reg.sex', SEXES.map(([c, k]) => [c, t(k)]), p.sex, (v) => (p.sex = v), errors.get('sex')),
      textField(`${prefix}-phone`, 'staff.reg.phone', p.phone, (v) => (p.phone = v), { type: 'tel', error: errors.get('phone'), hintKey: 'staff.reg.phoneHint' }),
    ),
    checkboxes(`${prefix}-reasons`, 'staff.reg.reasons', SUPPORT_REASONS.map(([c, k]) => [c, t(k)]), p.supportReasons, errors.get('support_reasons')),
    h(
      'div',
      { class: 'staff-row' },
      textField(`${prefix}-care`, 'staff.reg.careLevel', p.careLevel, (v) => (p.careLevel = v), { error: errors.get('care_level') }),
      selectField(`${prefix}-mobility`, 'staff.reg.mobility', [['', '—'], ...MOBILITY.map(([c, k]) => [c, t(k)] as [string, string])], p.mobility, (v) => (p.mobility = v), errors.get('mobility')),
    ),
    checkboxes(`${prefix}-devices`, 'staff.reg.devices', MEDICAL_DEVICES.map(([c, k]) => [c, t(k)]), p.medicalDevices, errors.get('medical_devices')),
    textField(`${prefix}-comm`, 'staff.reg.communication', p.communicationNeeds, (v) => (p.communicationNeeds = v), { error: errors.get('communication_needs') }),
  );
}

// ---- one household ------------------------------------------------------------------------

export const householdDetailPage: PageFactory = (root, ctx, params = {}) => {
  const id = params['id'] ?? '';
  let hh: HouseholdOut | null = null;
  let shelters: { id: string; name: string }[] = [];
  let error: unknown = null;
  let editError: unknown = null;
  let addError: unknown = null;
  let consentError: unknown = null;
  let notice = '';
  const edit = { address: '', notes: '' };
  const newPerson: PersonFormValues = { ...EMPTY_PERSON, supportReasons: [], medicalDevices: [] };
  const consentWanted = new Map<string, Map<string, boolean>>();
  let consentSource = '';
  let consentDate = todayJst();
  let editingPerson: string | null = null;
  let personEdit: PersonFormValues | null = null;
  let personError: unknown = null;
  let planFor: string | null = null;
  const planEdit = { shelter: '', notes: '' };
  let planError: unknown = null;
  const supporterRows = new Map<string, SupporterFormValues[]>();

  // Staff and admins see every consent (none recorded = an empty list, not "not disclosed").
  let seesConsent = false;
  const gate = staffGate(root, ctx, '/staff/registry', 'staff.reg.householdTitle', (user) => {
    seesConsent = user.role === 'staff' || user.role === 'admin';
    void load();
  });

  async function load(): Promise<void> {
    try {
      [hh, shelters] = await Promise.all([
        ctx.api.get<HouseholdOut>(`/api/households/${encodeURIComponent(id)}`),
        ctx.api.get<{ id: string; name: string }[]>('/api/shelters').catch(() => []),
      ]);
      edit.address = hh.address;
      edit.notes = hh.notes ?? '';
      consentWanted.clear();
      supporterRows.clear();
      error = null;
    } catch (err) {
      error = err;
    }
    render();
  }

  async function save(): Promise<void> {
    if (!hh) return;
    editError = null;
    try {
      await ctx.api.request('PATCH', `/api/households/${hh.id}`, { version: hh.version, address: edit.address.trim(), notes: edit.notes });
      notice = t('staff.reg.saved');
      await load();
    } catch (err) {
      editError = err;
      render();
    }
  }

  async function addPerson(): Promise<void> {
    if (!hh) return;
    addError = null;
    try {
      await ctx.api.post(`/api/households/${hh.id}/people`, personPayload(newPerson));
      Object.assign(newPerson, { ...EMPTY_PERSON, supportReasons: [], medicalDevices: [] });
      notice = t('staff.reg.personAdded');
      await load();
    } catch (err) {
      addError = err;
      render();
    }
  }

  async function saveConsents(p: PersonOut): Promise<void> {
    consentError = null;
    const changes = consentChanges(p.consents ?? [], consentWanted.get(p.id) ?? new Map(), consentDate, consentSource);
    if (changes.length === 0) {
      notice = t('staff.reg.noChanges');
      render();
      return;
    }
    try {
      await ctx.api.request('PUT', `/api/persons/${p.id}/consents`, changes);
      notice = t('staff.reg.consentSaved', { name: p.name });
      await load();
    } catch (err) {
      consentError = err;
      render();
    }
  }

  function consentTable(p: PersonOut): HTMLElement {
    if (!p.consents && !seesConsent) return h('p', {}, t('staff.reg.notDisclosed'));
    const wanted = consentWanted.get(p.id) ?? new Map<string, boolean>();
    consentWanted.set(p.id, wanted);
    const rows = RECIPIENT_CLASSES.map(([cls, key]) =>
      h(
        'tr',
        {},
        h('th', { scope: 'row' }, t(key)),
        ...DATASETS.map(([ds, dsKey]) => {
          const cell = `${cls}|${ds}`;
          const active = consentActive(p.consents ?? [], cls, ds);
          const past = (p.consents ?? []).find((c) => c.recipient_class === cls && c.dataset === ds);
          const boxId = `consent-${p.id}-${cls}-${ds}`;
          const box = h('input', { type: 'checkbox', id: boxId, checked: wanted.get(cell) ?? !!active });
          box.addEventListener('change', () => wanted.set(cell, box.checked));
          const status = active ? t('staff.reg.consentSince', { date: active.consented_on, source: active.source }) : past?.withdrawn_on ? t('staff.reg.consentWithdrawn', { date: past.withdrawn_on }) : t('staff.reg.consentNone');
          return h('td', {}, h('div', { class: 'choice' }, box, h('label', { for: boxId }, `${t(dsKey)}: ${status}`)));
        }),
      ),
    );
    const src = h('input', { type: 'text', id: `consent-src-${p.id}`, value: consentSource });
    src.addEventListener('input', () => (consentSource = src.value));
    const dateInput = h('input', { type: 'date', id: `consent-date-${p.id}`, value: consentDate });
    dateInput.addEventListener('change', () => (consentDate = dateInput.value));
    const saveBtn = h('button', { type: 'button', class: 'primary', 'data-action': 'save-consent' }, t('staff.reg.saveConsent'));
    saveBtn.addEventListener('click', () => void saveConsents(p));
    const errs = fieldProblemTexts(consentError);
    return h(
      'div',
      { class: 'consents' },
      table('staff.reg.consentCaption', ['staff.reg.colClass', 'staff.dataset.roster', 'staff.dataset.plan'], rows),
      h(
        'div',
        { class: 'staff-row' },
        h('div', { class: 'field' }, h('label', { for: `consent-date-${p.id}` }, t('staff.reg.consentDate')), dateInput),
        h('div', { class: 'field' }, h('label', { for: `consent-src-${p.id}` }, t('staff.reg.consentSource')), src, h('p', { class: 'hint' }, t('staff.reg.consentSourceHint'))),
      ),
      consentError ? (errs.size ? h('ul', { class: 'error', role: 'alert' }, ...[...errs.values()].map((m) => h('li', {}, m))) : errorBox(consentError)) : null,
      saveBtn,
    );
  }

  function planText(p: PersonOut): string {
    if (p.plan === undefined || p.plan === null) return p.consents || seesConsent ? t('staff.reg.noPlan') : t('staff.reg.notDisclosed');
    const shelter = shelters.find((s) => s.id === p.plan?.destination_shelter_id)?.name ?? '—';
    return t('staff.reg.planSummary', { shelter, supporters: p.plan.supporters.length, notes: p.plan.route_notes ?? '—' });
  }

  async function savePerson(p: PersonOut): Promise<void> {
    if (!personEdit) return;
    personError = null;
    try {
      // The edit form only exists when the contacts were in view (personFormFrom), so they are sent as edited.
      await ctx.api.request('PATCH', `/api/persons/${p.id}`, { ...personPayload(personEdit), version: p.version });
      notice = t('staff.reg.personSaved', { name: personEdit.name.trim() });
      editingPerson = null;
      personEdit = null;
      await load();
    } catch (err) {
      personError = err;
      render();
    }
  }

  async function savePlan(p: PersonOut): Promise<void> {
    planError = null;
    try {
      await ctx.api.request('PUT', `/api/persons/${p.id}/plan`, {
        destination_shelter_id: planEdit.shelter || null,
        route_notes: planEdit.notes.trim() || null,
        supporters: supportersPayload(supporterRows.get(p.id) ?? supportersFrom(p.plan?.supporters ?? [])),
        version: p.plan?.version ?? 0,
      });
      notice = t('staff.reg.planSaved', { name: p.name });
      await load();
    } catch (err) {
      planError = err;
      render();
    }
  }

  /**
   * Destination and route of the individual plan. Not offered while a supporter's details are
   * withheld (no consent): the plan is replaced as a whole and would lose what is not shown.
   */
  function planEditor(p: PersonOut): HTMLElement | null {
    if (!seesConsent) return null;
    if (supportersHidden(p.plan?.supporters ?? [])) return h('p', { class: 'hint' }, t('staff.reg.planLocked'));
    const rows = supporterRows.get(p.id) ?? supportersFrom(p.plan?.supporters ?? []);
    supporterRows.set(p.id, rows);
    const id = `plan-${p.id}`;
    const sel = h('select', { id: `${id}-shelter` }, h('option', { value: '' }, '—'), ...shelters.map((s) => h('option', { value: s.id, selected: s.id === (planFor === p.id ? planEdit.shelter : p.plan?.destination_shelter_id) }, s.name)));
    const notes = h('textarea', { id: `${id}-notes`, rows: 2 });
    notes.value = planFor === p.id ? planEdit.notes : p.plan?.route_notes ?? '';
    const sync = () => {
      planFor = p.id;
      planEdit.shelter = sel.value;
      planEdit.notes = notes.value;
    };
    sel.addEventListener('change', sync);
    notes.addEventListener('input', sync);
    const errs = planFor === p.id ? fieldProblemTexts(planError) : new Map<string, string>();
    const form = h(
      'form',
      { class: 'staff-form', novalidate: true, 'aria-label': t('staff.reg.planOf', { name: p.name }), 'data-form': 'plan' },
      h('div', { class: 'staff-row' },
        h('div', { class: 'field' }, h('label', { for: `${id}-shelter` }, t('staff.reg.planShelter')), sel, errs.get('destination_shelter_id') ? h('p', { class: 'error field-error' }, errs.get('destination_shelter_id')!) : null),
        h('div', { class: 'field' }, h('label', { for: `${id}-notes` }, t('staff.reg.planRoute')), notes, errs.get('route_notes') ? h('p', { class: 'error field-error' }, errs.get('route_notes')!) : null)),
      supportersEditor(`${id}-sup`, rows),
      planError && planFor === p.id && errs.size === 0 ? errorBox(planError) : null,
      h('button', { type: 'submit', class: 'secondary' }, t('staff.reg.savePlan')),
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      sync();
      void savePlan(p);
    });
    return form;
  }

  /** The plan's supporters, each with the date of their own consent to be named (PRODUCT.md §3). */
  function supportersEditor(prefix: string, rows: SupporterFormValues[]): HTMLElement {
    const add = h('button', { type: 'button', class: 'secondary', 'data-action': 'add-supporter' }, t('staff.reg.addSupporter'));
    add.addEventListener('click', () => {
      rows.push({ original: null, name: '', phone: '', relationship: '', consentedOn: '' });
      render();
    });
    return h(
      'fieldset',
      { class: 'supporters', 'data-supporters': 'true' },
      h('legend', {}, t('staff.reg.supporters')),
      h('p', { class: 'hint', id: `${prefix}-hint` }, t('staff.reg.supporterConsentHint')),
      rows.length === 0 ? h('p', {}, t('staff.reg.noSupporters')) : null,
      ...rows.map((r, i) => {
        const remove = h('button', { type: 'button', class: 'secondary', 'data-action': 'remove-supporter' }, t('staff.reg.removeSupporterN', { n: i + 1 }));
        remove.addEventListener('click', () => {
          rows.splice(i, 1);
          render();
        });
        return h(
          'fieldset',
          { 'data-supporter': String(i) },
          h('legend', {}, t('staff.reg.supporterN', { n: i + 1 })),
          h('div', { class: 'staff-row' },
            textField(`${prefix}-${i}-name`, 'staff.reg.name', r.name, (v) => (r.name = v)),
            textField(`${prefix}-${i}-phone`, 'staff.reg.phone', r.phone, (v) => (r.phone = v), { type: 'tel' }),
            textField(`${prefix}-${i}-rel`, 'staff.reg.relationship', r.relationship, (v) => (r.relationship = v)),
            textField(`${prefix}-${i}-consent`, 'staff.reg.supporterConsent', r.consentedOn, (v) => (r.consentedOn = v), { type: 'date' })),
          remove,
        );
      }),
      add,
    );
  }

  /** The person's emergency contacts (sent with the person edit, which replaces them as a whole). */
  function contactsEditor(prefix: string, rows: ContactFormValues[], all: Map<string, string>): HTMLElement {
    const add = h('button', { type: 'button', class: 'secondary', 'data-action': 'add-contact' }, t('staff.reg.addContact'));
    add.addEventListener('click', () => {
      rows.push({ name: '', phone: '', relationship: '' });
      render();
    });
    return h(
      'fieldset',
      { class: 'contacts', 'data-contacts': 'true' },
      h('legend', {}, t('staff.reg.contacts')),
      ...rows.map((r, i) => {
        const e = nestedFields(all, `emergency_contacts[${i}].`);
        const remove = h('button', { type: 'button', class: 'secondary', 'data-action': 'remove-contact' }, t('staff.reg.removeContactN', { n: i + 1 }));
        remove.addEventListener('click', () => {
          rows.splice(i, 1);
          render();
        });
        return h(
          'fieldset',
          { 'data-contact': String(i) },
          h('legend', {}, t('staff.reg.contactN', { n: i + 1 })),
          h('div', { class: 'staff-row' },
            textField(`${prefix}-${i}-name`, 'staff.reg.name', r.name, (v) => (r.name = v), { error: e.get('name') }),
            textField(`${prefix}-${i}-phone`, 'staff.reg.phone', r.phone, (v) => (r.phone = v), { type: 'tel', error: e.get('phone') }),
            textField(`${prefix}-${i}-rel`, 'staff.reg.relationship', r.relationship, (v) => (r.relationship = v), { error: e.get('relationship') })),
          remove,
        );
      }),
      add,
    );
  }

  function personEditor(p: PersonOut): HTMLElement | null {
    const initial = personFormFrom(p);
    if (!initial) return null;
    const open = editingPerson === p.id;
    const toggle = h('button', { type: 'button', class: 'secondary', 'aria-expanded': open ? 'true' : 'false', 'data-action': 'edit-person' }, open ? t('staff.dialog.cancel') : t('staff.reg.editPerson'));
    toggle.addEventListener('click', () => {
      editingPerson = open ? null : p.id;
      personEdit = open ? null : initial;
      personError = null;
      render();
    });
    if (!open || !personEdit) return toggle;
    const all = fieldProblemTexts(personError);
    const errs = fieldsFor(all);
    personEdit.emergencyContacts ??= [];
    const form = h(
      'form',
      { class: 'staff-form', novalidate: true, 'aria-label': t('staff.reg.editPersonOf', { name: p.name }), 'data-form': 'edit-person' },
      personFields(`pe-${p.id}`, personEdit, errs),
      contactsEditor(`pe-${p.id}-contact`, personEdit.emergencyContacts, all),
      personError && all.size === 0 ? errorBox(personError) : null,
      personError && all.size > 0 ? h('p', { class: 'error', role: 'alert' }, t('staff.reg.fixFields')) : null,
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('staff.reg.save')), toggle),
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void savePerson(p);
    });
    return form;
  }

  function personCard(p: PersonOut): HTMLElement {
    return h(
      'section',
      { class: 'person', 'aria-labelledby': `person-${p.id}`, 'data-person': p.id },
      h('h3', { id: `person-${p.id}` }, `${p.name}（${p.kana || '—'}）`),
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, t('staff.reg.birthDate')), h('dd', {}, p.birth_date ?? '—'),
        h('dt', {}, t('staff.reg.sex')), h('dd', {}, t(SEXES.find(([c]) => c === p.sex)?.[1] ?? 'staff.sex.unknown')),
        h('dt', {}, t('staff.reg.phone')), h('dd', {}, p.phone ?? '—'),
        h('dt', {}, t('staff.reg.reasons')), h('dd', {}, reasonsText(p.support_reasons)),
        h('dt', {}, t('staff.reg.plan')), h('dd', {}, planText(p)),
      ),
      planEditor(p),
      personEditor(p),
      h('h4', {}, t('staff.reg.consents')),
      consentTable(p),
    );
  }

  function render(): void {
    gate.render(() => {
      if (error) return [tabs(ctx, '/staff/registry/households'), errorBox(error)];
      if (!hh) return [h('p', { role: 'status' }, t('home.loading'))];
      const ef = fieldsFor(fieldProblemTexts(editError));
      const editForm = h(
        'form',
        { class: 'staff-form', novalidate: true, 'aria-labelledby': 'hh-edit-title' },
        h('h2', { id: 'hh-edit-title' }, t('staff.reg.editHousehold')),
        textField('hh-edit-address', 'staff.reg.address', edit.address, (v) => (edit.address = v), { error: ef.get('address') }),
        textField('hh-edit-notes', 'staff.reg.notes', edit.notes, (v) => (edit.notes = v), { type: 'textarea', error: ef.get('notes') }),
        editError && ef.size === 0 ? errorBox(editError) : null,
        h('button', { type: 'submit', class: 'primary' }, t('staff.reg.save')),
      );
      editForm.addEventListener('submit', (ev) => {
        ev.preventDefault();
        void save();
      });
      const af = fieldsFor(fieldProblemTexts(addError));
      const addForm = h(
        'form',
        { class: 'staff-form', novalidate: true, 'aria-labelledby': 'hh-add-title', 'data-form': 'person' },
        h('h2', { id: 'hh-add-title' }, t('staff.reg.addPerson')),
        personFields('np', newPerson, af),
        addError && af.size === 0 ? errorBox(addError) : null,
        h('button', { type: 'submit', class: 'primary' }, t('staff.reg.add')),
      );
      addForm.addEventListener('submit', (ev) => {
        ev.preventDefault();
        void addPerson();
      });
      return [
        tabs(ctx, '/staff/registry/households'),
        notice ? h('p', { class: 'ok-note', role: 'status' }, notice) : null,
        h('h2', {}, hh.address),
        h(
          'dl',
          { class: 'facts' },
          h('dt', {}, t('staff.reg.location')),
          h('dd', {}, `${hh.lat.toFixed(5)}, ${hh.lon.toFixed(5)}${hh.location_approximate ? ` ${t('staff.reg.approximate')}` : ''}`),
          h('dt', {}, t('staff.reg.version')),
          h('dd', {}, String(hh.version)),
        ),
        h('section', { 'aria-labelledby': 'people-title' }, h('h2', { id: 'people-title' }, t('staff.reg.people')), ...hh.people.map(personCard)),
        editForm,
        addForm,
      ];
    });
  }

  render();
  return { render, dispose: () => gate.dispose() } satisfies Page;
};

// ---- watchers ----------------------------------------------------------------------------

interface WatcherOut { id: string; name: string; kana: string; role: string; phone: string | null; capacity: number; load: number; available: boolean; district_id: string | null }

export const watchersPage: PageFactory = (root, ctx) => {
  const form = { name: '', kana: '', role: 'watcher', phone: '', lat: '', lon: '', capacity: '5' };
  let createError: unknown = null;
  let created = '';
  const inner = simplePage(
    '/staff/registry/watchers',
    (c) => Promise.all([c.api.get<WatcherOut[]>('/api/watchers?limit=1000'), c.api.get<District[]>('/api/districts')]),
    (c, [watchers, districts], reload, rerender) => {
      const errs = fieldsFor(fieldProblemTexts(createError));
      const f = h(
        'form',
        { class: 'staff-form', novalidate: true, 'aria-labelledby': 'w-create-title', 'data-form': 'watcher' },
        h('h2', { id: 'w-create-title' }, t('staff.reg.createWatcher')),
        h('div', { class: 'staff-row' },
          textField('w-name', 'staff.reg.name', form.name, (v) => (form.name = v), { error: errs.get('name') }),
          textField('w-kana', 'staff.reg.kana', form.kana, (v) => (form.kana = v), { error: errs.get('kana'), hintKey: 'staff.reg.kanaHint' }),
          selectField('w-role', 'staff.reg.watcherRole', [['watcher', t('role.watcher')], ['commissioner', t('role.commissioner')]], form.role, (v) => (form.role = v))),
        h('div', { class: 'staff-row' },
          textField('w-phone', 'staff.reg.phone', form.phone, (v) => (form.phone = v), { type: 'tel', error: errs.get('phone') }),
          textField('w-lat', 'staff.reg.lat', form.lat, (v) => (form.lat = v), { error: errs.get('lat'), inputmode: 'decimal' }),
          textField('w-lon', 'staff.reg.lon', form.lon, (v) => (form.lon = v), { error: errs.get('lon'), inputmode: 'decimal' }),
          textField('w-capacity', 'staff.reg.capacity', form.capacity, (v) => (form.capacity = v), { error: errs.get('capacity'), inputmode: 'numeric' })),
        createError && errs.size === 0 ? errorBox(createError) : null,
        created ? h('p', { class: 'ok-note', role: 'status' }, t('staff.reg.watcherCreated', { name: created })) : null,
        h('button', { type: 'submit', class: 'primary' }, t('staff.reg.register')),
      );
      f.addEventListener('submit', (ev) => {
        ev.preventDefault();
        const num = (v: string) => (/^-?\d+(\.\d+)?$/.test(v.trim()) ? Number(v.trim()) : v.trim());
        const body: Record<string, unknown> = { name: form.name.trim(), kana: form.kana.trim(), role: form.role, lat: num(form.lat), lon: num(form.lon), capacity: num(form.capacity) };
        if (form.phone.trim()) body.phone = form.phone.trim();
        c.api.post<WatcherOut>('/api/watchers', body).then(
          (w) => {
            createError = null;
            created = w.name;
            Object.assign(form, { name: '', kana: '', phone: '', lat: '', lon: '' });
            void reload();
          },
          (err: unknown) => {
            createError = err;
            created = '';
            rerender();
          },
        );
      });
      const dname = (id: string | null) => districts.find((d) => d.id === id)?.name ?? '—';
      const availabilityButton = (w: WatcherOut) => {
        const b = h('button', { type: 'button', class: 'secondary', 'aria-pressed': w.available ? 'true' : 'false', 'aria-label': t('staff.reg.availableOf', { state: w.available ? t('staff.reg.yes') : t('staff.reg.no'), name: w.name }), 'data-action': 'toggle-available' }, w.available ? t('staff.reg.yes') : t('staff.reg.no'));
        b.addEventListener('click', () => {
          c.api.request('PATCH', `/api/watchers/${w.id}`, { available: !w.available }).then(
            () => void reload(),
            (err: unknown) => {
              createError = err;
              rerender();
            },
          );
        });
        return b;
      };
      return [
        table(
          'staff.reg.watchersCaption',
          ['staff.reg.colName', 'staff.reg.watcherRole', 'staff.reg.colDistrict', 'staff.reg.phone', 'staff.reg.colLoad', 'staff.reg.colAvailable'],
          watchers.map((w) =>
            h(
              'tr',
              { 'data-watcher': w.id, class: w.load > w.capacity ? 'over' : null },
              h('th', { scope: 'row' }, `${w.name}（${w.kana || '—'}）`),
              h('td', {}, w.role === 'commissioner' ? t('role.commissioner') : t('role.watcher')),
              h('td', {}, dname(w.district_id)),
              h('td', {}, w.phone ?? '—'),
              h('td', { class: 'num' }, t('staff.reg.load', { load: w.load, capacity: w.capacity }), w.load > w.capacity ? h('strong', { class: 'error-text' }, ` ${t('staff.reg.overCapacity')}`) : null),
              h('td', {}, availabilityButton(w)),
            ),
          ),
          { 'data-watchers': 'true' },
        ),
        f,
      ];
    },
  );
  return inner(root, ctx);
};

// ---- shelters ----------------------------------------------------------------------------

interface ShelterOut { id: string; kind: string; name: string; address: string | null; capacity: number | null; is_open: boolean; occupancy: number; hazards: string[] }

export const sheltersPage: PageFactory = (root, ctx) => {
  let actionError: unknown = null;
  const occupancy = new Map<string, string>();
  const form: ShelterFormValues = emptyShelterForm();
  let createError: unknown = null;
  let created = '';
  let rerenderNow: () => void = () => undefined;
  const picker = pointPicker(ctx.api, 'sh-pick', (lon, lat) => {
    form.lon = String(lon);
    form.lat = String(lat);
    rerenderNow();
  });
  const page = simplePage(
    '/staff/registry/shelters',
    (c) => c.api.get<ShelterOut[]>('/api/shelters'),
    (c, shelters, reload, rerender) => {
      const update = (s: ShelterOut, body: Record<string, unknown>) =>
        c.api.request('PATCH', `/api/shelters/${s.id}/status`, body).then(
          () => {
            actionError = null;
            occupancy.delete(s.id);
            void reload();
          },
          (err: unknown) => {
            actionError = err;
            rerender();
          },
        );
      rerenderNow = rerender;
      const errs = fieldsFor(fieldProblemTexts(createError));
      const f = h(
        'form',
        { class: 'staff-form', novalidate: true, 'aria-labelledby': 'sh-create-title', 'data-form': 'shelter' },
        h('h2', { id: 'sh-create-title' }, t('staff.reg.createShelter')),
        h('div', { class: 'staff-row' },
          selectField('sh-kind', 'staff.reg.colKind', Object.entries(SHELTER_KINDS).map(([k, key]) => [k, t(key)]), form.kind, (v) => (form.kind = v), errs.get('kind')),
          textField('sh-name', 'staff.reg.shelterName', form.name, (v) => (form.name = v), { error: errs.get('name'), required: true }),
          textField('sh-address', 'staff.reg.address', form.address, (v) => (form.address = v), { error: errs.get('address') })),
        picker.element,
        h('div', { class: 'staff-row' },
          textField('sh-lat', 'staff.reg.lat', form.lat, (v) => (form.lat = v), { error: errs.get('lat'), inputmode: 'decimal', required: true }),
          textField('sh-lon', 'staff.reg.lon', form.lon, (v) => (form.lon = v), { error: errs.get('lon'), inputmode: 'decimal', required: true, hintKey: 'staff.reg.lonHint' }),
          textField('sh-capacity', 'staff.reg.shelterCapacity', form.capacity, (v) => (form.capacity = v), { error: errs.get('capacity'), inputmode: 'numeric' })),
        checkboxes('sh-hazards', 'staff.reg.shelterHazards', SHELTER_HAZARDS.map(([c, k]) => [c, t(k)]), form.hazards, errs.get('hazards')),
        createError && errs.size === 0 ? errorBox(createError) : null,
        createError && errs.size > 0 ? h('p', { class: 'error', role: 'alert' }, t('staff.reg.fixFields')) : null,
        created ? h('p', { class: 'ok-note', role: 'status' }, t('staff.reg.shelterCreated', { name: created })) : null,
        h('button', { type: 'submit', class: 'primary' }, t('staff.reg.register')),
      );
      f.addEventListener('submit', (ev) => {
        ev.preventDefault();
        c.api.post<ShelterOut>('/api/shelters', shelterPayload(form)).then(
          (s) => {
            createError = null;
            created = s.name;
            Object.assign(form, emptyShelterForm());
            void reload();
          },
          (err: unknown) => {
            createError = err;
            created = '';
            rerender();
          },
        );
      });
      return [
        actionError ? errorBox(actionError) : null,
        table(
          'staff.reg.sheltersCaption',
          ['staff.reg.colName', 'staff.reg.colKind', 'staff.reg.colAddress', 'staff.reg.colStatus', 'staff.reg.colOccupancy', 'staff.reg.colActions'],
          shelters.map((s) => {
            const toggle = h('button', { type: 'button', class: s.is_open ? 'secondary' : 'primary', 'data-action': s.is_open ? 'close-shelter' : 'open-shelter', 'aria-label': `${s.is_open ? t('staff.reg.closeShelter') : t('staff.reg.openShelter')}: ${s.name}` }, s.is_open ? t('staff.reg.closeShelter') : t('staff.reg.openShelter'));
            toggle.addEventListener('click', () => void update(s, { is_open: !s.is_open }));
            const occId = `occ-${s.id}`;
            const occ = h('input', { type: 'number', id: occId, min: 0, value: occupancy.get(s.id) ?? String(s.occupancy), inputmode: 'numeric', class: 'narrow' });
            occ.addEventListener('input', () => occupancy.set(s.id, occ.value));
            const saveOcc = h('button', { type: 'button', class: 'secondary', 'aria-label': `${t('staff.reg.saveOccupancy')}: ${s.name}` }, t('staff.reg.saveOccupancy'));
            saveOcc.addEventListener('click', () => void update(s, { occupancy: Number(occ.value) }));
            return h(
              'tr',
              { 'data-shelter': s.id, 'data-open': String(s.is_open) },
              h('th', { scope: 'row' }, s.name),
              h('td', {}, t(SHELTER_KINDS[s.kind] ?? 'staff.shelter.kind.designated')),
              h('td', {}, s.address ?? '—'),
              h('td', {}, s.is_open ? t('staff.reg.open') : t('staff.reg.closed')),
              h('td', {}, h('label', { for: occId, class: 'visually-hidden' }, t('staff.reg.occupancyOf', { name: s.name })), occ, ` / ${s.capacity ?? '—'}`),
              h('td', {}, h('div', { class: 'actions' }, toggle, saveOcc)),
            );
          }),
          { 'data-shelters': 'true' },
        ),
        f,
      ];
    },
  )(root, ctx);
  return { render: page.render, dispose: () => { picker.dispose(); page.dispose?.(); } } satisfies Page;
};

// ---- hazard zones -------------------------------------------------------------------------

interface ZoneFeature { id: string; properties: { kind: string; level: string | null; name: string | null; source: string | null } }

export const hazardZonesPage: PageFactory = (root, ctx) => {
  const zf: HazardZoneFormValues = emptyHazardZoneForm();
  const zArea = { points: '', unreadable: false };
  let zError: unknown = null;
  let zCreated = false;
  const picker = polygonPicker(ctx.api, 'hz-poly', AREA_LABELS);

  function zoneForm(c: AppContext, reload: () => Promise<void>, rerender: () => void): HTMLElement {
    const errs = fieldsFor(fieldProblemTexts(zError));
    const areaError = zArea.unreadable ? t('staff.reg.areaUnreadable') : errs.get('geometry');
    const f = h(
      'form',
      { class: 'staff-form', novalidate: true, 'aria-labelledby': 'hz-title', 'data-form': 'hazard-zone' },
      h('h2', { id: 'hz-title' }, t('staff.reg.createZone')),
      h('div', { class: 'staff-row' },
        selectField('hz-kind', 'staff.reg.colKind', [['flood', t('staff.hazard.flood')], ['landslide', t('staff.hazard.landslide')], ['other', t('staff.hazard.other')]], zf.kind, (v) => (zf.kind = v), errs.get('kind')),
        textField('hz-level', 'staff.reg.colZoneLevel', zf.level, (v) => (zf.level = v), { error: errs.get('level') }),
        textField('hz-name', 'staff.reg.zoneName', zf.name, (v) => (zf.name = v), { error: errs.get('name') }),
        textField('hz-source', 'staff.reg.colSource', zf.source, (v) => (zf.source = v), { error: errs.get('source') })),
      h('fieldset', {}, h('legend', {}, t('staff.reg.area')),
        picker.element,
        textField('hz-points', 'staff.reg.areaPoints', zArea.points, (v) => (zArea.points = v), { type: 'textarea', error: areaError, hintKey: 'staff.reg.areaPointsHint' })),
      zError && errs.size === 0 ? errorBox(zError) : null,
      (zError && errs.size > 0) || zArea.unreadable ? h('p', { class: 'error', role: 'alert' }, t('staff.reg.fixFields')) : null,
      zCreated ? h('p', { class: 'ok-note', role: 'status' }, t('staff.reg.zoneCreated')) : null,
      h('button', { type: 'submit', class: 'primary' }, t('staff.reg.register')),
    );
    f.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const typed = parseRing(zArea.points);
      zArea.unreadable = typed === null;
      zCreated = false;
      if (typed === null) {
        zError = null;
        rerender();
        return;
      }
      c.api.post('/api/hazard-zones', hazardZonePayload(zf, areaFrom(picker.geometry(), typed))).then(
        () => {
          zError = null;
          zCreated = true;
          Object.assign(zf, emptyHazardZoneForm());
          zArea.points = '';
          picker.clear();
          void reload();
        },
        (err: unknown) => {
          zError = err;
          rerender();
        },
      );
    });
    return f;
  }

  const page = simplePage(
  '/staff/registry/hazard-zones',
  (c) => c.api.get<{ features: ZoneFeature[] }>('/api/hazard-zones/geojson'),
  (c, fc, reload, rerender) => [
    fc.features.length === 0
      ? h('p', {}, t('staff.reg.noZones'))
      : table(
          'staff.reg.zonesCaption',
          ['staff.reg.colKind', 'staff.reg.colName', 'staff.reg.colZoneLevel', 'staff.reg.colSource'],
          fc.features.map((z) =>
            h(
              'tr',
              { 'data-zone': z.id },
              h('td', {}, t(z.properties.kind === 'flood' ? 'staff.hazard.flood' : z.properties.kind === 'landslide' ? 'staff.hazard.landslide' : 'staff.hazard.other')),
              h('th', { scope: 'row' }, z.properties.name ?? '—'),
              h('td', {}, z.properties.level ?? '—'),
              h('td', {}, z.properties.source ?? '—'),
            ),
          ),
        ),
    h('p', {}, appLink(c, '/staff/imports', t('staff.reg.importZones'))),
    zoneForm(c, reload, rerender),
  ],
  )(root, ctx);
  return { render: page.render, dispose: () => { picker.dispose(); page.dispose?.(); } } satisfies Page;
};


