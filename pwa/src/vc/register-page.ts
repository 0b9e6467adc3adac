import { getLang, t } from '../i18n';
import type { Page, PageFactory } from '../router';
import { checkboxes, selectField, textField } from '../staff/forms';
import { h } from '../ui/dom';
import { fieldProblemTexts, problemText } from '../ui/problem-text';
import { vocabCodes, vocabLabel, type ListKind } from '../vocab';

interface Notice {
  version: string;
  ja: string;
  en: string;
  centre: string;
  label: string;
}

interface Registered {
  token: string;
  qr_svg: string;
  label: string;
}

const opts = (kind: ListKind): [string, string][] => vocabCodes(kind).map((c) => [c, vocabLabel(kind, c)]);
/** The public page offers the two insurance answers a volunteer can give before the day. */
const INSURANCE = ['enrolled', 'none'];

/**
 * `/vc/join/:council/:op`: the public pre-registration page (no account) of a volunteer centre.
 * The volunteer reads the privacy notice, consents, registers the day before, and gets a QR code
 * holding only an opaque signed token (never personal data) to show at the desk (#18).
 */
export const registerPage: PageFactory = (root, ctx, params = {}) => {
  const api = `/api/public/vc/${encodeURIComponent(params['council'] ?? '')}/${encodeURIComponent(params['op'] ?? '')}`;
  const form = {
    kind: 'individual', name: '', kana: '', phone: '', group_name: '', group_size: '2', age_band: 'age_30_49', prefecture: '',
    skills: [] as string[], insurance: 'enrolled', insured_where: '', guardian_consent_by: '',
  };
  let consent = false;
  let notice: Notice | null = null;
  let done: Registered | null = null;
  let error: unknown = null;
  let busy = false;
  let disposed = false;

  async function load(): Promise<void> {
    try {
      notice = await ctx.api.get<Notice>(`${api}/privacy-notice`);
    } catch (err) {
      error = err;
    }
    render();
  }

  async function submit(): Promise<void> {
    if (busy || !notice) return;
    busy = true;
    error = null;
    try {
      const minor = ['under_16', 'age_16_17'].includes(form.age_band);
      done = await ctx.api.post<Registered>(`${api}/registrations`, {
        kind: form.kind, name: form.name, kana: form.kana, phone: form.phone || null, age_band: form.age_band, prefecture: form.prefecture,
        group_name: form.kind === 'group' ? form.group_name || null : null,
        group_size: form.kind === 'group' ? Number(form.group_size) : 1,
        skills: form.skills, insurance: form.insurance,
        insured_where: form.insurance === 'enrolled' ? form.insured_where || null : null,
        guardian_consent_by: minor ? form.guardian_consent_by || null : null,
        privacy_consent: consent, privacy_notice: notice.version,
      });
    } catch (err) {
      error = err;
    }
    busy = false;
    render();
    root.querySelector<HTMLElement>(done ? '#join-title' : '[role=alert]')?.focus();
  }

  function formView(n: Notice): (HTMLElement | null)[] {
    const e = fieldProblemTexts(error);
    const f = (id: keyof typeof form, key: Parameters<typeof t>[0], o: Parameters<typeof textField>[4] = {}) =>
      textField(`join-${id}`, key, String(form[id]), (v) => ((form as Record<string, unknown>)[id] = v), { error: e.get(id), ...o });
    const agree = h('input', { type: 'checkbox', id: 'join-consent', checked: consent, required: true, 'aria-describedby': 'join-notice' });
    agree.addEventListener('change', () => (consent = agree.checked));
    const el = h('form', { class: 'staff-form', 'data-join-form': 'true', novalidate: true, 'aria-busy': busy ? 'true' : null },
      selectField('join-kind', 'vc.rec.kind', [['individual', t('vc.rec.kind.individual')], ['group', t('vc.rec.kind.group')]], form.kind, (v) => { form.kind = v; render(); }),
      f('name', 'common.name', { required: true, autocomplete: 'name' }),
      f('kana', 'vc.intake.kana'),
      f('phone', 'vc.join.phone', { type: 'tel', inputmode: 'tel', autocomplete: 'tel' }),
      form.kind === 'group' ? f('group_name', 'vc.rec.groupName') : null,
      form.kind === 'group' ? f('group_size', 'vc.rec.groupSize', { type: 'number', inputmode: 'numeric' }) : null,
      selectField('join-age_band', 'vc.rec.age', opts('vc_age_bands'), form.age_band, (v) => { form.age_band = v; render(); }, e.get('age_band')),
      f('prefecture', 'vc.rec.prefecture', { inputmode: 'numeric', required: true }),
      checkboxes('join-skills', 'vc.rec.skills', opts('vc_skills'), form.skills),
      selectField('join-insurance', 'vc.rec.insurance', opts('vc_insurance').filter(([c]) => INSURANCE.includes(c)), form.insurance, (v) => { form.insurance = v; render(); }, e.get('insurance')),
      form.insurance === 'enrolled' ? f('insured_where', 'vc.rec.insuredWhere') : null,
      ['under_16', 'age_16_17'].includes(form.age_band) ? f('guardian_consent_by', 'vc.rec.guardian') : null,
      h('section', { class: 'vc-notice', id: 'join-notice', 'aria-labelledby': 'join-notice-title', tabindex: '0' },
        h('h2', { id: 'join-notice-title' }, t('vc.join.notice')),
        ...(getLang() === 'en' ? n.en : n.ja).split(/\n+/).filter(Boolean).map((p) => h('p', {}, p))),
      h('div', { class: 'choice' }, agree, h('label', { for: 'join-consent' }, t('vc.join.consent'))),
      e.get('privacy_consent') ? h('p', { class: 'error field-error' }, e.get('privacy_consent')!) : null,
      h('button', { type: 'submit', class: 'primary', disabled: busy }, t('vc.join.submit')));
    el.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void submit();
    });
    return [h('p', {}, t('vc.join.lead')), error ? h('div', { class: 'error', role: 'alert', tabindex: '-1' }, h('p', {}, problemText(error))) : null, el];
  }

  function doneView(r: Registered): HTMLElement[] {
    // The server's SVG shown as an image (never parsed into the page): it holds only the token.
    const src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(r.qr_svg)}`;
    return [
      h('p', { role: 'status', 'data-join-done': 'true' }, t('vc.join.done')),
      h('img', { class: 'vc-qr', src, alt: t('vc.join.qrAlt'), 'data-qr': 'true', width: 256, height: 256 }),
      h('p', {}, t('vc.join.typed')),
      h('p', {}, h('code', { class: 'vc-token', 'data-token': 'true' }, r.token)),
      h('p', { class: 'hint' }, t('vc.join.keep')),
    ];
  }

  function render(): void {
    if (disposed) return;
    const label = done?.label ?? notice?.label ?? '';
    root.replaceChildren(h('section', { class: 'card vc-join', 'aria-labelledby': 'join-title' },
      h('h1', { id: 'join-title', tabindex: '-1' }, `${label}${notice ? notice.centre : ''} ${t(done ? 'vc.join.doneTitle' : 'vc.join.title')}`),
      label ? h('p', { class: 'drill-banner', role: 'note', 'data-drill': 'true' }, t('vc.drill')) : null,
      ...(done ? doneView(done) : notice ? formView(notice) : error ? [h('div', { class: 'error', role: 'alert' }, h('p', {}, problemText(error)))] : [h('p', { role: 'status' }, t('home.loading'))])));
  }

  render();
  void load();
  return { render, dispose: () => void (disposed = true) } satisfies Page;
};
