// 避難所: open or close a shelter, record its occupancy, register a new one (typed or picked on the map).
import { t } from '../../i18n';
import type { Page, PageFactory } from '../../router';
import { h } from '../../ui/dom';
import { fieldProblemTexts } from '../../ui/problem-text';
import { checkboxes, selectField, textField } from '../forms';
import {
  fieldsFor,
  designationLabels,
  emptyShelterForm,
  shelterPayload,
  type ShelterFormValues,
} from '../registry-model';
import { pointPicker } from '../point-picker';
import { errorBox } from '../shell';
import { simplePage, table } from './common';
import { vocabLabel, vocabOptions } from '../../vocab';

interface ShelterOut { id: string; kind: string; designations?: string[]; name: string; address: string | null; capacity: number | null; is_open: boolean; occupancy: number; hazards: string[] }

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
          selectField('sh-kind', 'staff.colKind', vocabOptions('shelter_kinds'), form.kind, (v) => (form.kind = v), errs.get('kind')),
          textField('sh-name', 'staff.reg.shelterName', form.name, (v) => (form.name = v), { error: errs.get('name'), required: true }),
          textField('sh-address', 'staff.reg.address', form.address, (v) => (form.address = v), { error: errs.get('address') })),
        picker.element,
        h('div', { class: 'staff-row' },
          textField('sh-lat', 'staff.reg.lat', form.lat, (v) => (form.lat = v), { error: errs.get('lat'), inputmode: 'decimal', required: true }),
          textField('sh-lon', 'staff.reg.lon', form.lon, (v) => (form.lon = v), { error: errs.get('lon'), inputmode: 'decimal', required: true, hintKey: 'staff.reg.lonHint' }),
          textField('sh-capacity', 'staff.reg.shelterCapacity', form.capacity, (v) => (form.capacity = v), { error: errs.get('capacity'), inputmode: 'numeric' })),
        checkboxes('sh-hazards', 'staff.reg.shelterHazards', vocabOptions('shelter_hazards'), form.hazards, errs.get('hazards')),
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
          ['staff.reg.colName', 'staff.colKind', 'staff.reg.address', 'staff.reg.colStatus', 'shelter.occupancyOfCapacity', 'staff.colActions'],
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
              h('td', {}, designationLabels(s).join('・') || vocabLabel('shelter_kinds', 'designated')),
              h('td', {}, s.address ?? '—'),
              h('td', {}, s.is_open ? t('shelter.open') : t('staff.reg.closed')),
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
