/**
 * Staff home: devices whose notifications keep failing (`GET /api/staff/push/devices`), so that
 * someone can call the person before an emergency instead of after it.
 */
import type { ApiClient } from '../api/client';
import { t } from '../i18n';
import { h } from '../ui/dom';

export interface FailingDevice {
  id: string;
  user_id: string;
  login: string;
  display_name: string | null;
  role: string;
  user_agent: string | null;
  last_error: string | null;
  failing_since: string | null;
  failures: number;
  last_failure_at: string | null;
  last_success_at: string | null;
  created_at: string;
}

/** "Chrome / Android" from a user agent: enough to tell a person's phone from their PC. */
export function deviceLabel(userAgent: string | null): string {
  if (!userAgent) return t('staff.push.unknownDevice');
  const ua = userAgent;
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chrome\//.test(ua) ? 'Chrome'
    : /Safari\//.test(ua) ? 'Safari' : t('staff.push.otherBrowser');
  const os = /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Windows/.test(ua) ? 'Windows'
    : /Mac OS X/.test(ua) ? 'macOS' : /Linux/.test(ua) ? 'Linux' : '';
  return os ? `${browser} / ${os}` : browser;
}

function when(iso: string | null): string {
  if (!iso) return t('staff.users.never');
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString('ja-JP', { dateStyle: 'medium', timeStyle: 'short' });
}

/** The section; fills itself. Nothing is shown to a user who may not read the list. */
export function failingDevicesSection(api: Pick<ApiClient, 'get'>): HTMLElement {
  const box = h('section', { class: 'card', 'aria-labelledby': 'push-devices-title', 'data-push-devices': 'true' });
  api.get<FailingDevice[]>('/api/staff/push/devices').then((devices) => {
    const head = h('h2', { id: 'push-devices-title' }, t('staff.push.title'));
    if (!devices.length) {
      box.replaceChildren(head, h('p', {}, t('staff.push.none')));
      return;
    }
    const th = (key: Parameters<typeof t>[0]) => h('th', { scope: 'col' }, t(key));
    box.replaceChildren(
      head,
      h('p', { class: 'hint' }, t('staff.push.lead')),
      h('div', { class: 'table-wrap' },
        h('table', {},
          h('thead', {}, h('tr', {}, th('staff.push.device'), th('staff.push.user'), th('staff.push.lastError'),
            th('staff.push.failingSince'), th('staff.push.lastSuccess'))),
          h('tbody', {}, ...devices.map((d) => h('tr', { 'data-device': d.id },
            h('td', {}, deviceLabel(d.user_agent)),
            h('td', {}, `${d.display_name ?? d.login}（${d.login}）`),
            h('td', {}, d.last_error ?? ''),
            h('td', {}, t('staff.push.since', { when: when(d.failing_since), count: d.failures })),
            h('td', {}, when(d.last_success_at))))))),
    );
  }, () => box.replaceChildren());
  return box;
}
