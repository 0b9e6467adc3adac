import { describe, expect, it, vi } from 'vitest';
import { createBatcher, createThrottle, type Scheduler } from './batcher';
import { initialConn, isNew, openLiveStream, reduceConn, retryDelay, streamUrl, type ConnState, type LiveEvent } from './stream';
import { visibilityExpr } from './map-view';
import { chartGeometry, formatDuration, overall, percent, rate } from './progress';
import { districtFillPaint, foldCounts, householdPaint, MAP_STATUSES, mapStatus, rateBand, STATUS_STYLES, statusesFor, statusLabel } from './status';

/** A manual clock: timers fire only when the test advances time. */
function fakeScheduler(): Scheduler & { advance(ms: number): void } {
  let now = 0;
  let timers: Array<{ at: number; fn: () => void; id: number }> = [];
  let next = 1;
  return {
    now: () => now,
    setTimeout(fn, ms) {
      const id = next++;
      timers.push({ at: now + ms, fn, id });
      return id;
    },
    clearTimeout(h) {
      timers = timers.filter((t) => t.id !== h);
    },
    advance(ms) {
      const until = now + ms;
      for (;;) {
        const due = timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0];
        if (!due) break;
        timers = timers.filter((t) => t !== due);
        now = due.at;
        due.fn();
      }
      now = until;
    },
  };
}

describe('event batching', () => {
  it('draws the first change at once, then at most once per window with the newest value per key', () => {
    const clock = fakeScheduler();
    const flushes: Array<Record<string, string>> = [];
    const b = createBatcher<string>((m) => flushes.push(Object.fromEntries(m)), 500, clock);
    b.push('h1', 'safe');
    clock.advance(0);
    expect(flushes).toEqual([{ h1: 'safe' }]);
    // A burst of 300 events inside one window becomes one redraw.
    for (let i = 0; i < 300; i++) b.push(`h${i % 50}`, i % 2 ? 'injured' : 'rescue');
    b.push('h7', 'evacuated');
    clock.advance(499);
    expect(flushes).toHaveLength(1);
    clock.advance(1);
    expect(flushes).toHaveLength(2);
    expect(Object.keys(flushes[1]!)).toHaveLength(50);
    expect(flushes[1]!['h7']).toBe('evacuated');
    expect(b.pending()).toBe(0);
  });

  it('flushes on demand and forgets everything on dispose', () => {
    const clock = fakeScheduler();
    const onFlush = vi.fn();
    const b = createBatcher<number>(onFlush, 500, clock);
    b.push('a', 1);
    b.flush();
    expect(onFlush).toHaveBeenCalledTimes(1);
    b.push('b', 2);
    b.dispose();
    clock.advance(1000);
    expect(onFlush).toHaveBeenCalledTimes(1);
  });

  it('throttles refetches: one now-ish and one trailing call per burst', () => {
    const clock = fakeScheduler();
    const fn = vi.fn();
    const th = createThrottle(fn, 1000, clock);
    th.call();
    clock.advance(0);
    expect(fn).toHaveBeenCalledTimes(1);
    for (let i = 0; i < 100; i++) {
      th.call();
      clock.advance(5);
    }
    expect(fn).toHaveBeenCalledTimes(1);
    clock.advance(1000);
    expect(fn).toHaveBeenCalledTimes(2);
  });
});

describe('status → style', () => {
  it('keeps each server status as its own (each operation kind has its own words), unknown ones as 未訪問', () => {
    for (const st of ['safe', 'ok', 'emergency', 'rescue', 'contact', 'injured', 'away', 'unknown', 'overdue', 'late', 'evacuated']) {
      expect(mapStatus(st)).toBe(st);
    }
    expect(mapStatus(undefined)).toBe('unreached');
    expect(mapStatus('something-new')).toBe('unreached');
    expect(foldCounts({ safe: 2, unreached: 3, unknown: 1, rescue: 1 }, 'safety_check')).toEqual({
      overdue: 0, late: 0, rescue: 1, injured: 0, unknown: 1, unreached: 3, evacuated: 0, safe: 2,
    });
    expect(foldCounts({ ok: 1, away: 2 }, 'watch_round')).toEqual({
      overdue: 0, late: 0, emergency: 0, contact: 0, away: 2, unreached: 0, ok: 1,
    });
  });

  it('never tells the statuses of one operation kind apart by colour alone', () => {
    for (const kind of ['safety_check', 'watch_round'] as const) {
      const list = statusesFor(kind);
      const shapes = list.map((s) => {
        const st = STATUS_STYLES[s];
        return `${st.radius}|${st.fill === null}|${st.ringWidth}`;
      });
      expect(new Set(shapes).size).toBe(list.length);
    }
    for (const s of MAP_STATUSES) expect(statusLabel(s), s).not.toBe(s);
  });

  it('paints from feature-state first, then the tile, for each status', () => {
    const paint = householdPaint();
    const color = paint['circle-color'] as unknown[];
    expect(color[0]).toBe('match');
    expect(color[1]).toEqual(['coalesce', ['feature-state', 'status'], ['get', 'status']]);
    const i = color.indexOf('rescue');
    expect(color[i + 1]).toBe(STATUS_STYLES.rescue.fill);
    expect(JSON.stringify(districtFillPaint())).toContain('"feature-state","rate"');
  });

  it('filters by live status in paint, since layer filters cannot read feature-state', () => {
    expect(visibilityExpr({ statuses: [], matchIds: null })).toBe(true);
    const e = JSON.stringify(visibilityExpr({ statuses: ['safe'], matchIds: new Set(['x']) }));
    expect(e).toContain('"feature-state","status"');
    expect(e).toContain('["literal",["safe"]]');
    expect(e).toContain('"feature-state","match"');
  });
});

describe('progress math', () => {
  it('rates, floored percentages and bands', () => {
    expect(rate(0, 0)).toBeNull();
    expect(rate(3, 4)).toBe(0.75);
    expect(percent(999, 1000)).toBe(99); // never "100 %" while one household is unconfirmed
    expect(percent(1000, 1000)).toBe(100);
    expect(rateBand(null)).toBeNull();
    expect([rateBand(0.1), rateBand(0.5), rateBand(0.85), rateBand(1)]).toEqual([0, 1, 2, 3]);
  });

  it('sums districts and formats the time to first report', () => {
    const d = (total: number, confirmed: number, overdue: number, need_help: number, late = 0) => ({
      district_id: 'x', name: 'x', total, confirmed, overdue, need_help, time_to_first_report_s: null, statuses: {}, late,
    });
    expect(overall([d(10, 4, 1, 2, 3), d(5, 5, 0, 1)])).toEqual({ total: 15, confirmed: 9, overdue: 1, late: 3, needHelp: 3 });
    expect(formatDuration(null)).toBeNull();
    expect(formatDuration(59)).toBe('0:00');
    expect(formatDuration(3900)).toBe('1:05');
  });

  it('draws the chart inside its box, rising with the series', () => {
    const g = chartGeometry([0, 5, 10], 10, 320, 140, 20);
    const pts = g.points.split(' ').map((p) => p.split(',').map(Number));
    expect(pts).toHaveLength(3);
    expect(pts[0]).toEqual([20, 120]);
    expect(pts[2]).toEqual([300, 20]);
    expect(g.last).toEqual({ x: 300, y: 20, value: 100 });
    expect(g.grid.map((l) => l.label)).toEqual([0, 50, 100]);
    expect(chartGeometry([], 10).points).toBe('');
    expect(chartGeometry([3], 0).last).toBeNull();
  });
});

describe('reconnect state', () => {
  it('goes live on open, reconnecting on error or offline, and tracks the last event id', () => {
    let s: ConnState = initialConn(41);
    expect(s.status).toBe('connecting');
    s = reduceConn(s, { type: 'open' });
    expect(s.status).toBe('live');
    s = reduceConn(s, { type: 'event', id: 42 });
    s = reduceConn(s, { type: 'event', id: 40 }); // a replayed old one does not move it back
    expect(s.lastEventId).toBe(42);
    expect(isNew(s, 42)).toBe(false);
    expect(isNew(s, 43)).toBe(true);
    s = reduceConn(s, { type: 'offline' });
    expect(s.status).toBe('reconnecting');
    s = reduceConn(s, { type: 'error', closed: true });
    s = reduceConn(s, { type: 'error', closed: true });
    expect(s.failures).toBe(2);
    s = reduceConn(s, { type: 'open' });
    expect(s).toEqual({ status: 'live', lastEventId: 42, failures: 0 });
    expect([retryDelay(1), retryDelay(2), retryDelay(3), retryDelay(10)]).toEqual([1000, 2000, 4000, 15000]);
    expect(streamUrl('op 1', 7)).toBe('/api/events?operation_id=op+1&last_event_id=7');
    expect(streamUrl('op', null)).toBe('/api/events?operation_id=op');
  });

  it('drops the stream when offline and resumes from the last id seen, applying each event once', () => {
    const made: FakeES[] = [];
    class FakeES {
      readyState = 0;
      onopen: (() => void) | null = null;
      onerror: (() => void) | null = null;
      listeners = new Map<string, (ev: MessageEvent<string>) => void>();
      closed = false;
      constructor(public url: string) {
        made.push(this);
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
    const win = new EventTarget();
    let online = true;
    const events: LiveEvent[] = [];
    const states: string[] = [];
    const stream = openLiveStream({
      operationId: 'op',
      lastEventId: 10,
      onEvent: (e) => events.push(e),
      onState: (s) => states.push(s.status),
      EventSourceImpl: FakeES as unknown as typeof EventSource,
      win: win as unknown as Window,
      isOnline: () => online,
    });
    expect(made[0]!.url).toBe('/api/events?operation_id=op&last_event_id=10');
    made[0]!.onopen!();
    made[0]!.emit('target.status', 11, { household_id: 'h1', status: 'safe' });
    made[0]!.emit('target.status', 11, { household_id: 'h1', status: 'safe' }); // duplicate delivery
    expect(events.map((e) => e.id)).toEqual([11]);
    online = false;
    win.dispatchEvent(new Event('offline'));
    expect(made[0]!.closed).toBe(true);
    expect(stream.state().status).toBe('reconnecting');
    online = true;
    win.dispatchEvent(new Event('online'));
    expect(made[1]!.url).toBe('/api/events?operation_id=op&last_event_id=11');
    made[1]!.onopen!();
    made[1]!.emit('visit.recorded', 12, { household_id: 'h2' });
    made[1]!.emit('target.status', 13, { household_id: 'h2', status: 'injured' });
    expect(events.map((e) => [e.id, e.kind])).toEqual([[11, 'target.status'], [12, 'visit.recorded'], [13, 'target.status']]);
    expect(states).toEqual(['live', 'reconnecting', 'live']);
    stream.close();
    expect(made[1]!.closed).toBe(true);
  });
});
