// 世帯: search and page through the households, and register a new one with its first person.
import { t } from '../../i18n';
import type { Page, PageFactory } from '../../router';
import { appLink, h } from '../../ui/dom';
import { fieldProblemTexts } from '../../ui/problem-text';
import { selectField, textField } from '../forms';
import { districtTree, type District } from '../operations-model';
import {
  EMPTY_PERSON,
  fieldsFor,
  householdPayload,
  type HouseholdFormValues,
  type HouseholdOut,
} from '../registry-model';
import { errorBox, staffGate } from '../shell';
import { reasonsText, table, tabs } from './common';
import { personFields } from './person-fields';
import { vocabOptions } from '../../vocab';

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
        selectField('hh-district', 'common.district', [['', t('common.all')], ...districtTree(districts).map(({ district: d, depth }) => [d.id, `${'　'.repeat(depth)}${d.name}`] as [string, string])], filter.district, (v) => (filter.district = v)),
        selectField('hh-reason', 'staff.reg.reason', [['', t('common.all')], ...vocabOptions('support_reasons')], filter.reason, (v) => (filter.reason = v)),
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
      ['staff.reg.address', 'staff.reg.people', 'staff.reg.reasons', 'common.district', 'staff.reg.colLocation'],
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
