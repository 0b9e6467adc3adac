/**
 * Coalesces live updates keyed by id and hands them over at most once per `intervalMs`.
 * Hundreds of events a second become one redraw every 500 ms; for each key only the newest
 * value survives (a household that changes twice in a window is drawn once, in its last state).
 */
export interface Batcher<V> {
  push(key: string, value: V): void;
  /** Flushes now (e.g. before a screenshot or on dispose). */
  flush(): void;
  pending(): number;
  dispose(): void;
}

export interface Scheduler {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

const realScheduler: Scheduler = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
  now: () => Date.now(),
};

export function createBatcher<V>(
  onFlush: (batch: Map<string, V>) => void,
  intervalMs = 500,
  scheduler: Scheduler = realScheduler,
): Batcher<V> {
  let pending = new Map<string, V>();
  let timer: unknown = null;
  let lastFlush = -Infinity;

  function flush(): void {
    if (timer !== null) {
      scheduler.clearTimeout(timer);
      timer = null;
    }
    if (pending.size === 0) return;
    const batch = pending;
    pending = new Map();
    lastFlush = scheduler.now();
    onFlush(batch);
  }

  return {
    push(key, value) {
      pending.delete(key); // re-insert: iteration order follows the newest change
      pending.set(key, value);
      if (timer !== null) return;
      // The first change after a quiet spell is drawn at once; a burst waits for the window.
      const wait = Math.max(0, lastFlush + intervalMs - scheduler.now());
      timer = scheduler.setTimeout(flush, wait);
    },
    flush,
    pending: () => pending.size,
    dispose() {
      if (timer !== null) scheduler.clearTimeout(timer);
      timer = null;
      pending.clear();
    },
  };
}

/**
 * Runs `fn` at most once per `intervalMs`, leading and trailing: a burst of events causes one
 * call now and one after the burst, never one per event (used to refetch the counters).
 */
export function createThrottle(fn: () => void, intervalMs: number, scheduler: Scheduler = realScheduler): { call(): void; dispose(): void } {
  let last = -Infinity;
  let timer: unknown = null;
  return {
    call() {
      if (timer !== null) return;
      const wait = Math.max(0, last + intervalMs - scheduler.now());
      timer = scheduler.setTimeout(() => {
        timer = null;
        last = scheduler.now();
        fn();
      }, wait);
    },
    dispose() {
      if (timer !== null) scheduler.clearTimeout(timer);
      timer = null;
    },
  };
}
