// 危険区域: the hazard zones, and a new one drawn or typed.
import { t } from '../../i18n';
import type { AppContext, Page, PageFactory } from '../../router';
import { appLink, h } from '../../ui/dom';
import { fieldProblemTexts } from '../../ui/problem-text';
import { selectField, textField } from '../forms';
import {
  fieldsFor,
  areaFrom,
  emptyHazardZoneForm,
  hazardZonePayload,
  type HazardZoneFormValues,
  parseRing,
} from '../registry-model';
import { polygonPicker } from '../polygon-picker';
import { errorBox } from '../shell';
import { AREA_LABELS, simplePage, table } from './common';
import { vocabLabel, vocabOptions } from '../../vocab';

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
        selectField('hz-kind', 'staff.colKind', vocabOptions('hazard_zone_kinds'), zf.kind, (v) => (zf.kind = v), errs.get('kind')),
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
          'staff.reg.tab.hazardZones',
          ['staff.colKind', 'staff.reg.colName', 'staff.reg.colZoneLevel', 'staff.reg.colSource'],
          fc.features.map((z) =>
            h(
              'tr',
              { 'data-zone': z.id },
              h('td', {}, vocabLabel('hazard_zone_kinds', z.properties.kind)),
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
