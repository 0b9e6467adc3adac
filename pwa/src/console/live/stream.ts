/**
 * The live feed (`GET /api/events`, Server-Sent Events) for one operation, with our own view of
 * the connection. EventSource reconnects by itself and sends `Last-Event-ID` (the server sets
 * ids); when the browser gives up (HTTP error) or the device goes offline we close it and open
 * a new one with `?last_event_id=` — the server resumes from there, so nothing is missed. Events
 * at or below the last id seen are dropped, so nothing is applied twice either.
 */

export type ConnStatus = 'connecting' | 'live' | 'reconnecting';

export interface ConnState {
  status: ConnStatus;
  lastEventId: number | null;
  /** Failed attempts in a row (for the back-off), reset when a connection opens. */
  failures: number;
}

export type ConnAction =
  | { type: 'open' }
  | { type: 'event'; id: number }
  | { type: 'error'; closed: boolean }
  | { type: 'offline' }
  | { type: 'online' };

export function initialConn(lastEventId: number | null): ConnState {
  return { status: 'connecting', lastEventId, failures: 0 };
}

/** Pure: the next connection state. */
export function reduceConn(state: ConnState, action: ConnAction): ConnState {
  switch (action.type) {
    case 'open':
      return { ...state, status: 'live', failures: 0 };
    case 'event':
      return state.lastEventId !== null && action.id <= state.lastEventId ? state : { ...state, lastEventId: action.id };
    case 'error':
      return { ...state, status: 'reconnecting', failures: state.failures + (action.closed ? 1 : 0) };
    case 'offline':
      return { ...state, status: 'reconnecting' };
    case 'online':
      return { ...state, status: state.status === 'live' ? 'live' : 'reconnecting' };
  }
}

/** Whether an event with this id is new (not yet applied). */
export function isNew(state: ConnState, id: number): boolean {
  return state.lastEventId === null || id > state.lastEventId;
}

/** Back-off after the browser gave up: 1 s, 2 s, 4 s … at most 15 s. */
export function retryDelay(failures: number): number {
  return Math.min(15_000, 1000 * 2 ** Math.max(0, failures - 1));
}

export function streamUrl(operationId: string, lastEventId: number | null): string {
  const q = new URLSearchParams({ operation_id: operationId });
  if (lastEventId !== null) q.set('last_event_id', String(lastEventId));
  return `/api/events?${q.toString()}`;
}

export const EVENT_KINDS = [
  'visit.recorded',
  'target.status',
  'escalation.created',
  'escalation.acknowledged',
  'escalation.resolved',
  'escalation.assigned',
  'operation.started',
  'operation.closed',
] as const;

export interface LiveEvent {
  id: number;
  kind: string;
  household_id: string | null;
  operation_id: string | null;
  at: string;
  drill: boolean;
  status?: string;
  outcome?: string;
  escalation_id?: string;
  level?: string;
  assigned_to_name?: string;
  [key: string]: unknown;
}

export interface LiveStreamOptions {
  operationId: string;
  lastEventId: number | null;
  onEvent: (event: LiveEvent) => void;
  onState: (state: ConnState) => void;
  /** The event kinds to listen to (default: the console's); the VC board listens to `vc.need`. */
  kinds?: readonly string[];
  /** Injected in tests. */
  EventSourceImpl?: typeof EventSource;
  win?: Pick<Window, 'addEventListener' | 'removeEventListener'>;
  isOnline?: () => boolean;
}

export interface LiveStream {
  state(): ConnState;
  close(): void;
}

export function openLiveStream(opts: LiveStreamOptions): LiveStream {
  const ES = opts.EventSourceImpl ?? EventSource;
  const win = opts.win ?? window;
  const isOnline = opts.isOnline ?? (() => navigator.onLine);
  let state = initialConn(opts.lastEventId);
  let es: EventSource | null = null;
  let retry: ReturnType<typeof setTimeout> | null = null;
  let closed = false;

  function dispatch(action: ConnAction): void {
    const before = state;
    state = reduceConn(state, action);
    if (state.status !== before.status || state.failures !== before.failures) opts.onState(state);
  }

  function onMessage(ev: MessageEvent<string>): void {
    const id = Number(ev.lastEventId);
    if (!Number.isFinite(id) || !isNew(state, id)) return;
    let data: LiveEvent;
    try {
      data = { ...(JSON.parse(ev.data) as LiveEvent), id };
    } catch {
      return;
    }
    dispatch({ type: 'event', id });
    opts.onEvent(data);
  }

  function connect(): void {
    if (closed) return;
    es?.close();
    const source = new ES(streamUrl(opts.operationId, state.lastEventId), { withCredentials: true });
    es = source;
    source.onopen = () => dispatch({ type: 'open' });
    source.onerror = () => {
      const gaveUp = source.readyState === 2; // EventSource.CLOSED
      dispatch({ type: 'error', closed: gaveUp });
      if (gaveUp && !closed) schedule(retryDelay(state.failures));
    };
    for (const kind of opts.kinds ?? EVENT_KINDS) source.addEventListener(kind, onMessage as EventListener);
  }

  function schedule(ms: number): void {
    if (retry !== null) clearTimeout(retry);
    retry = setTimeout(() => {
      retry = null;
      if (isOnline()) connect();
    }, ms);
  }

  const onOffline = () => {
    // A dead network does not always error an open stream: drop it ourselves and say so.
    es?.close();
    es = null;
    dispatch({ type: 'offline' });
  };
  const onOnline = () => {
    dispatch({ type: 'online' });
    connect();
  };
  win.addEventListener('offline', onOffline);
  win.addEventListener('online', onOnline);
  if (isOnline()) connect();
  else dispatch({ type: 'offline' });

  return {
    state: () => state,
    close() {
      closed = true;
      if (retry !== null) clearTimeout(retry);
      es?.close();
      es = null;
      win.removeEventListener('offline', onOffline);
      win.removeEventListener('online', onOnline);
    },
  };
}
