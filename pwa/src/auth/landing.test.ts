import { afterEach, describe, expect, it } from 'vitest';
import { landingPath, rememberSignInTarget, takeSignInTarget } from './landing';

describe('where a role lands after signing in', () => {
  afterEach(() => sessionStorage.clear());

  it('sends a lent VC helper (vc_desk) to the desk, the other roles to their pages', () => {
    expect(landingPath('vc_desk')).toBe('/staff/vc');
    expect(landingPath('staff')).toBe('/staff');
    expect(landingPath('coordinator')).toBe('/console');
    expect(landingPath('vc_volunteer')).toBe('/');
  });

  it('keeps a remembered desk page for vc_desk, but never a staff or console page', () => {
    rememberSignInTarget('/staff/vc/abc/reception');
    expect(takeSignInTarget('vc_desk')).toBe('/staff/vc/abc/reception');
    rememberSignInTarget('/staff/registry');
    expect(takeSignInTarget('vc_desk')).toBe('/staff/vc');
    rememberSignInTarget('/console/op/abc');
    expect(takeSignInTarget('vc_desk')).toBe('/staff/vc');
    rememberSignInTarget('/staff/vc');
    expect(takeSignInTarget('watcher')).toBe('/');
  });
});
