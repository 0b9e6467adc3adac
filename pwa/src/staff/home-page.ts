import { t, type MessageKey } from '../i18n';
import type { Page, PageFactory } from '../router';
import { appLink, h } from '../ui/dom';
import { failingDevicesSection } from './push-devices';
import { staffGate } from './shell';

const LINKS: [string, MessageKey, MessageKey][] = [
  ['/staff/imports', 'staff.imports.title', 'staff.home.imports'],
  ['/staff/operations', 'staff.nav.operations', 'staff.home.operations'],
  ['/staff/registry', 'staff.reg.title', 'staff.home.registry'],
  ['/staff/watch', 'staff.watch.title', 'staff.home.watch'],
  ['/staff/drills', 'staff.nav.drills', 'staff.home.drills'],
  ['/staff/audit', 'staff.audit.title', 'staff.home.audit'],
  ['/staff/users', 'staff.users.title', 'staff.home.users'],
  ['/console', 'staff.nav.console', 'staff.home.console'],
  ['/', 'staff.nav.field', 'staff.home.field'],
];

/** `/staff`: the council staff's menu (desktop / tablet). */
export const staffHomePage: PageFactory = (root, ctx) => {
  let devices: HTMLElement | null = null;
  const gate = staffGate(root, ctx, '/staff', 'staff.home.title', (user) => {
    if (user.role === 'admin' || user.role === 'staff') devices = failingDevicesSection(ctx.api);
    render();
  });
  function render(): void {
    gate.render(() => [
      h('p', {}, t('staff.home.lead')),
      h(
        'ul',
        { class: 'staff-menu' },
        ...LINKS.map(([path, title, desc]) => h('li', {}, appLink(ctx, path, t(title), { class: 'menu-link' }), h('p', { class: 'hint' }, t(desc)))),
      ),
      devices,
    ]);
  }
  render();
  return { render, dispose: () => gate.dispose() } satisfies Page;
};
