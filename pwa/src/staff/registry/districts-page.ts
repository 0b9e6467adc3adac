// 地区: the district tree with its walking radius, edited in place; a new district drawn or typed.
import { t } from '../../i18n';
import type { AppContext, Page, PageFactory } from '../../router';
import { appLink, h } from '../../ui/dom';
import { fieldProblemTexts } from '../../ui/problem-text';
import { selectField, textField } from '../forms';
import { districtTree, type District } from '../operations-model';
import {
  fieldsFor,
  areaFrom,
  districtPayload,
  emptyDistrictForm,
  parseRing,
  subtreeCounts,
  type DistrictCount,
  type DistrictFormValues,
} from '../registry-model';
import { polygonPicker } from '../polygon-picker';
import { errorBox } from '../shell';
import { AREA_LABELS, levelLabel, simplePage, table } from './common';

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
      const [districts, counts] = await Promise.all([c.api.get<District[]>('/api/districts'), c.api.get<DistrictCount[]>('/api/registry/counts')]);
      return { districts, counts };
    },
    (c, { districts, counts }, reload, rerender) => {
      const byId = subtreeCounts(districts, counts);
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
            textField('d-name', 'common.name', values.name, (v) => (values.name = v), { error: errs.get('name') }),
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
          ['staff.colCode', 'staff.reg.colName', 'staff.reg.level', 'staff.reg.colRadius', 'staff.reg.colHouseholds', 'staff.reg.colPrint', 'staff.colActions'],
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
