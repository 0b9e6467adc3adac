// 世帯の詳細: one household, its people, their consents, individual plans and contacts.
import { t } from '../../i18n';
import type { Page, PageFactory } from '../../router';
import { h } from '../../ui/dom';
import { fieldProblemTexts } from '../../ui/problem-text';
import { textField } from '../forms';
import {
  consentActive,
  consentChanges,
  DATASETS,
  EMPTY_PERSON,
  fieldsFor,
  personFormFrom,
  personPayload,
  supportersFrom,
  supportersHidden,
  supportersPayload,
  todayJst,
  type ContactFormValues,
  type SupporterFormValues,
  type HouseholdOut,
  type PersonFormValues,
  type PersonOut,
} from '../registry-model';
import { errorBox, staffGate } from '../shell';
import { reasonsText, table, tabs } from './common';
import { nestedFields, personFields } from './person-fields';
import { vocabLabel, vocabOptions } from '../../vocab';

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
  const gate = staffGate(root, ctx, '/staff/registry', 'common.householdDetail', (user) => {
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
    const rows = vocabOptions('recipient_classes').map(([cls, label]) =>
      h(
        'tr',
        {},
        h('th', { scope: 'row' }, label),
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
            textField(`${prefix}-${i}-name`, 'common.name', r.name, (v) => (r.name = v)),
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
            textField(`${prefix}-${i}-name`, 'common.name', r.name, (v) => (r.name = v), { error: e.get('name') }),
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
    const toggle = h('button', { type: 'button', class: 'secondary', 'aria-expanded': open ? 'true' : 'false', 'data-action': 'edit-person' }, open ? t('common.cancel') : t('staff.reg.editPerson'));
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
        h('dt', {}, t('staff.reg.sex')), h('dd', {}, vocabLabel('sexes', p.sex)),
        h('dt', {}, t('staff.reg.phone')), h('dd', {}, p.phone ?? '—'),
        h('dt', {}, t('staff.reg.reasons')), h('dd', {}, reasonsText(p.support_reasons)),
        h('dt', {}, t('staff.dataset.plan')), h('dd', {}, planText(p)),
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
