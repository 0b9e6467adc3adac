import { describe, expect, it } from 'vitest';
import { setLang } from '../i18n';
import { mapLocale } from './locale';

describe('MapLibre control texts', () => {
  it('speak Japanese (and English when chosen), covering every control the app uses', () => {
    setLang('ja');
    const ja = mapLocale();
    expect(ja['NavigationControl.ZoomIn']).toBe('拡大');
    expect(ja['NavigationControl.ZoomOut']).toBe('縮小');
    expect(ja['AttributionControl.ToggleAttribution']).toMatch(/出典/);
    expect(ja['CooperativeGesturesHandler.MobileHelpText']).toMatch(/2本の指/);
    setLang('en');
    expect(mapLocale()['NavigationControl.ZoomIn']).toBe('Zoom in');
    setLang('ja');
  });
});
