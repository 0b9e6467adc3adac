// 見守り協力員: the watchers with their load, availability, and a form for a new one.
import { t } from '../../i18n';
import type { PageFactory } from '../../router';
import { h } from '../../ui/dom';
import { fieldProblemTexts } from '../../ui/problem-text';
import { selectField, textField } from '../forms';
import type { District } from '../operations-model';
import { fieldsFor } from '../registry-model';
import { errorBox } from '../shell';
import { simplePage, table } from './common';

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
          textField('w-name', 'common.name', form.name, (v) => (form.name = v), { error: errs.get('name') }),
          textField('w-kana', 'staff.reg.kana', form.kana, (v) => (form.kana = v), { error: errs.get('kana'), hintKey: 'staff.reg.kanaHint' }),
          selectField('w-role', 'common.role', [['watcher', t('role.watcher')], ['commissioner', t('role.commissioner')]], form.role, (v) => (form.role = v))),
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
          ['staff.reg.colName', 'common.role', 'common.district', 'staff.reg.phone', 'staff.reg.colLoad', 'staff.reg.colAvailable'],
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
