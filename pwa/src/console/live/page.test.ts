// The live page's glue with a fake API and a fake EventSource (no WebGL here, so the map itself
// reports itself unavailable and everything else must keep working): counters, the district
// table, 再接続中 while offline, and resuming from the last event id.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ApiClient } from '../../api/client';
import { setLang } from '../../i18n';
import type { AppContext, Page } from '../../router';
import { livePage } from './page';

vi.mock('./map-view', () => ({
  createLiveMap: () => Promise.reject(new Error('no WebGL in happy-dom')),
}));

class FakeES {
  static made: FakeES[] = [];
  readyState = 0;
  onopen: (() => void) | null = null;
  onerror: (() => void) | null = null;
  listeners = new Map<string, (ev: MessageEvent<string>) => void>();
  closed = false;
  constructor(public url: string) {
    FakeES.made.push(this);
  }
  addEventListener(kind: string, fn: (ev: MessageEvent<string>) => void) {
    this.listeners.set(kind, fn);
  }
  close() {
    this.closed = true;
    this.readyState = 2;
  }
  emit(kind: string, id: number, data: object) {
    this.listeners.get(kind)?.({ lastEventId: String(id), data: JSON.stringify({ kind, ...data }) } as MessageEvent<string>);
  }
}

const OP = 'op-1';
function summary(confirmed: number, late = 0) {
  const unreached = 3 - confirmed - late;
  return {
    operation: { id: OP, kind: 'safety_check', mode: 'drill', name: '訓練の安否確認', status: opStatus, label: '【訓練】', started_at: '2026-11-27T00:00:00Z', targets: 3, first_report_minutes: 180, completion_minutes: 1440 },
    latest_event_id: 100,
    overdue_at: '2026-11-28T00:00:00Z',
    late_at: '2026-11-27T03:00:00Z',
    districts: [{ district_id: 'd1', name: '笠間小学校区', total: 3, confirmed, overdue: 0, late, need_help: 0, time_to_first_report_s: confirmed ? 120 : null, statuses: { unreached, safe: confirmed, late } }],
    statuses: { unreached, safe: confirmed, late },
  };
}

let root: HTMLElement;
let page: Page | undefined;
let confirmed = 0;
let late = 0;
let opStatus = 'active';
let escalations: object[] = [];
const get = vi.fn(async (path: string): Promise<unknown> => {
  if (path.endsWith('/summary')) return summary(confirmed, Date.now() >= Date.parse('2026-11-27T03:00:00Z') ? late : 0);
  if (path.includes('/history')) return { times: ['2026-11-27T00:00:00Z', '2026-11-27T01:00:00Z'], districts: { d1: [0, confirmed] }, total: [0, confirmed] };
  if (path.includes('/escalations')) return escalations;
  if (path.includes('/timeline')) return { items: [] };
  if (path === '/api/shelters') return [{ id: 's1', name: '笠間公民館', is_open: true, occupancy: 12, capacity: 80 }];
  if (path === '/api/console/assignees') return [];
  throw new Error(`unexpected GET ${path}`);
});

const flush = async (ms = 0) => {
  await vi.advanceTimersByTimeAsync(ms);
  for (let i = 0; i < 5; i++) await Promise.resolve();
};
/** The live page of OP for a signed-in coordinator, drawn from its first answers. */
async function openAsCoordinator(): Promise<void> {
  const me = vi.fn().mockResolvedValue({ id: 'u', login: 'c', display_name: 'c', role: 'coordinator', district_ids: [], tenant: { id: 't', name: 't', municipality_code: '08216', time_zone: 'Asia/Tokyo' } });
  const ctx: AppContext = { api: { get, me } as unknown as ApiClient, navigate: vi.fn() };
  page = livePage(root, ctx, { id: OP });
  page.render();
  await flush(10);
}
const text = (sel: string) => root.querySelector(sel)?.textContent ?? null;

beforeEach(() => {
  vi.useFakeTimers();
  setLang('ja');
  confirmed = 0;
  late = 0;
  opStatus = 'active';
  escalations = [];
  FakeES.made = [];
  vi.stubGlobal('EventSource', FakeES);
  vi.spyOn(navigator, 'onLine', 'get').mockReturnValue(true);
  vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  root = document.createElement('main');
  document.body.replaceChildren(root);
});
afterEach(() => {
  page?.dispose?.();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('live page', () => {
  it('follows the stream from the summary, updates the figures, and says 再接続中 while down', async () => {
    await openAsCoordinator();
    expect(text('h1')).toBe('【訓練】訓練の安否確認');
    expect(root.querySelector('[data-drill]')).not.toBeNull();
    expect(root.querySelector('[data-progress] tr[data-district="d1"] [data-confirmed]')?.getAttribute('data-confirmed')).toBe('0');
    expect(root.querySelector('[data-map]')?.getAttribute('data-ready')).toBe('failed');
    // The stream starts where the summary was taken: nothing in between can be lost.
    expect(FakeES.made).toHaveLength(1);
    expect(FakeES.made[0]!.url).toBe(`/api/events?operation_id=${OP}&last_event_id=100`);
    FakeES.made[0]!.onopen!();
    expect(root.querySelector('[data-conn]')?.getAttribute('data-conn')).toBe('live');

    // A visit elsewhere: the counters follow (refetched, throttled) without a reload.
    confirmed = 1;
    FakeES.made[0]!.emit('target.status', 101, { household_id: 'h1', status: 'safe' });
    await flush(1100);
    expect(root.querySelector('[data-progress] tr[data-district="d1"] [data-confirmed]')?.getAttribute('data-confirmed')).toBe('1');
    expect(text('[data-legend-count="safe"]')).toBe('1件');
    expect(text('[data-counter="confirmed"] .counter-value')).toBe('1 / 3世帯（33%）');

    // Offline: the stream is dropped and the screen says so.
    window.dispatchEvent(new Event('offline'));
    expect(FakeES.made[0]!.closed).toBe(true);
    expect(text('[data-conn]')).toContain('再接続中');
    // Back: a new stream from the last id seen.
    window.dispatchEvent(new Event('online'));
    expect(FakeES.made[1]!.url).toBe(`/api/events?operation_id=${OP}&last_event_id=101`);
    FakeES.made[1]!.onopen!();
    expect(text('[data-conn]')).toBe('リアルタイム更新中');

    // No household is late yet: the 遅延 counter says 0 beside the first-report target.
    expect(text('[data-counter="late"] .counter-value')).toBe('0件');
    expect(root.querySelector('[data-counter="firstReportTarget"]')).not.toBeNull();

    // Shelters tab shows occupancy in words and numbers.
    (root.querySelector('[data-tab="shelters"]') as HTMLButtonElement).click();
    expect(text('[data-shelter="s1"]')).toContain('12 / 80');
    expect(text('[data-shelter="s1"]')).toContain('開設中');
  });

  it('counts open escalations on their tab while another tab is open', async () => {
    await openAsCoordinator();
    FakeES.made[0]!.onopen!();
    (root.querySelector('[data-tab="shelters"]') as HTMLButtonElement).click();
    expect(text('[data-tab="escalations"]')).toBe('通報');
    // An escalation raised elsewhere while the coordinator reads the shelters: the tab says (1).
    escalations = [{ id: 'e1', household_id: 'h1', status: 'open', outcome: 'rescue', created_at: '2026-11-27T01:00:00Z' }];
    FakeES.made[0]!.emit('escalation.created', 102, { escalation_id: 'e1' });
    await flush(1100);
    expect(text('[data-tab="escalations"]')).toBe('通報 (1)');
    expect(root.querySelector('[data-tab="shelters"]')?.getAttribute('aria-selected')).toBe('true');
  });

  it('does not say リアルタイム更新中 for a closed operation, even while its stream is open', async () => {
    opStatus = 'closed';
    await openAsCoordinator();
    FakeES.made[0]!.onopen!();
    expect(root.querySelector('[data-conn]')?.getAttribute('data-conn')).toBe('closed');
    expect(text('[data-conn]')).toContain('終了した活動');
    expect(text('[data-conn]')).not.toContain('リアルタイム');
  });

  it('marks households without a report past the first-report target as 遅延, with their count, when the target passes', async () => {
    vi.setSystemTime(new Date('2026-11-27T02:59:00Z'));
    late = 2;
    await openAsCoordinator();
    expect(text('[data-counter="late"] .counter-value')).toBe('0件');
    expect(root.querySelector('[data-progress] tr[data-district="d1"] [data-late]')?.getAttribute('data-late')).toBe('0');
    // The target passes: no event says so, the page refetches the figures itself.
    await flush(62_000);
    await flush(1_100);
    expect(text('[data-counter="late"] .counter-value')).toBe('2件');
    expect(root.querySelector('[data-progress] tr[data-district="d1"] [data-late]')?.getAttribute('data-late')).toBe('2');
    expect(text('[data-legend="late"]')).toContain('遅延');
    expect(text('[data-legend-count="late"]')).toBe('2件');
    expect(root.querySelector('[data-legend="late"] svg circle')?.getAttribute('fill')).toBe('none'); // hollow ring, not colour alone
  });
});
