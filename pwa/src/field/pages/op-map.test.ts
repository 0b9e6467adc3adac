import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ApiClient } from '../../api/client';
import type { MyHouseholds } from '../model';
import { setLang } from '../../i18n';
import { OWN_LAYERS } from '../../map/config';
import { createMapSwitch } from './op-map';

const DATA: MyHouseholds = {
  operation: { id: 'op1', kind: 'safety_check', mode: 'drill', name: '訓練', status: 'active' },
  households: [
    { id: 'h1', address: '笠間市笠間1', status: 'unreached', order: 1, people: [], lon: 140.2593, lat: 36.3746 },
    { id: 'h2', address: '笠間市笠間2', status: 'safe', order: 2, people: [], lon: 140.2597, lat: 36.3734 },
    { id: 'h3', address: '笠間市笠間3', status: 'unreached', order: 3, people: [] },
  ],
};

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 600 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(cond()).toBe(true);
};

function api(): ApiClient {
  const config = {
    basemap: { url: 'https://tiles.example/{z}/{x}/{y}.png', attribution: '地理院タイル', max_zoom: 18 },
    layers: OWN_LAYERS,
    household_point_min_zoom: 13,
  };
  return {
    get: vi.fn(async () => config),
    me: vi.fn(async () => ({ id: 'u1' })),
  } as unknown as ApiClient;
}

afterEach(() => {
  document.body.replaceChildren();
  localStorage.clear();
});

describe('list / map switch', () => {
  it('starts on the list; the toggle says which view is on and asks the page to re-render', () => {
    setLang('ja');
    const onChange = vi.fn();
    const sw = createMapSwitch({ api: api(), opId: 'op1', onChange, onSelect: vi.fn() });
    expect(sw.view).toBe('list');
    const toggle = sw.toggle();
    document.body.append(toggle);
    expect(toggle.getAttribute('role')).toBe('group');
    expect(toggle.getAttribute('aria-label')).toBe('表示の切り替え');
    const [list, map] = [...toggle.querySelectorAll('button')];
    expect(list!.textContent).toBe('リスト');
    expect(list!.getAttribute('aria-pressed')).toBe('true');
    expect(map!.getAttribute('aria-pressed')).toBe('false');
    map!.click();
    expect(sw.view).toBe('map');
    expect(onChange).toHaveBeenCalledTimes(1);
    list!.click();
    expect(sw.view).toBe('list');
    sw.dispose();
  });

  it('without a usable map (no WebGL here) says so, keeps the legend and the download with its estimate', async () => {
    setLang('ja');
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const sw = createMapSwitch({ api: api(), opId: 'op1', onChange: vi.fn(), onSelect: vi.fn() });
    const section = sw.mapView(DATA, (hh) => hh.status);
    document.body.append(section);
    // The same element on every render: the map survives the page re-rendering around it.
    expect(sw.mapView(DATA, (hh) => hh.status)).toBe(section);
    await until(() => section.querySelector('[data-map-note="failed"]') !== null);
    expect(section.querySelector('[data-map-note="failed"]')!.textContent).toContain('リスト表示をお使いください');
    // One household has no location: the page says how many, rather than hiding it.
    expect(section.textContent).toContain('位置情報のない世帯が 1 件あります');
    // Colour is never alone: each status on the map has its name in the legend.
    expect(section.querySelector('[data-legend="unreached"]')!.textContent).toBe('未確認');
    expect(section.querySelector('[data-legend="safe"]')!.textContent).toBe('無事');
    expect(section.querySelector('[data-legend="shelter"]')!.textContent).toBe('避難所');
    const estimate = Number(section.querySelector('[data-download-estimate]')!.getAttribute('data-download-estimate'));
    expect(estimate).toBeGreaterThan(4 * 5); // 3 own layers + the base map, zooms 13–17
    expect(section.querySelector('.map-attribution')!.textContent).toBe('背景地図：地理院タイル');
    sw.dispose();
  });

  it('offline: the download is disabled and says a connection is needed', async () => {
    setLang('ja');
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    vi.spyOn(navigator, 'onLine', 'get').mockReturnValue(false);
    localStorage.clear();
    const sw = createMapSwitch({ api: api(), opId: 'op1', onChange: vi.fn(), onSelect: vi.fn() });
    const section = sw.mapView(DATA, (hh) => hh.status);
    document.body.append(section);
    await until(() => section.querySelector('[data-download-start]') !== null && section.querySelector('[data-map-state="failed"]') !== null);
    expect(section.querySelector('[data-download-status="offline"]')!.textContent).toBe('ダウンロードにはインターネット接続が必要です。');
    expect(section.querySelector<HTMLButtonElement>('[data-download-start]')!.disabled).toBe(true);
    sw.dispose();
  });
});
