/**
 * What a push carries and how it is shown. Shared by the service worker and the page, so it uses
 * no DOM or worker types. The server's payload (server/push/send.py) is a title, a body, an
 * in-app URL, a tag, a kind and the drill flag: never personal data.
 */

/** The service worker asks open pages to register a new subscription (it cannot send the CSRF header). */
export const RESUBSCRIBED_MESSAGE = 'tonari-push-resubscribed';
/** The service worker asks an open page to show a notification's screen. */
export const OPEN_MESSAGE = 'tonari-open';

export const DRILL_PREFIX = '【訓練】';

export interface PushPayload {
  title: string;
  body: string;
  url: string;
  tag: string | null;
  kind: string;
  drill: boolean;
}

export interface ShownNotification {
  title: string;
  body: string;
  tag?: string;
  /** Escalations stay on screen until the user acts on them. */
  requireInteraction: boolean;
  data: { url: string; kind: string; drill: boolean };
}

/** Only a path of this app; anything else opens the home screen. */
export function inAppPath(url: unknown): string {
  return typeof url === 'string' && url.startsWith('/') && !url.startsWith('//') && !url.includes('\\') ? url : '/';
}

/** Reads a push's JSON (anything malformed still shows something: the app's name and home). */
export function parsePayload(text: string | null | undefined): PushPayload {
  let raw: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text ?? '');
    if (parsed && typeof parsed === 'object') raw = parsed as Record<string, unknown>;
  } catch {
    // fall through to the defaults
  }
  const str = (v: unknown, fallback: string) => (typeof v === 'string' && v.trim() ? v : fallback);
  return {
    title: str(raw['title'], 'Tonari 隣'),
    body: str(raw['body'], ''),
    url: inAppPath(raw['url']),
    tag: typeof raw['tag'] === 'string' ? raw['tag'] : null,
    kind: str(raw['kind'], 'info'),
    drill: raw['drill'] === true,
  };
}

/** How a payload is shown: a drill always says 【訓練】, whatever the title said. */
export function toNotification(p: PushPayload): ShownNotification {
  const title = p.drill && !p.title.startsWith(DRILL_PREFIX) ? DRILL_PREFIX + p.title : p.title;
  return {
    title,
    body: p.body,
    ...(p.tag ? { tag: p.tag } : {}),
    requireInteraction: p.kind === 'escalation',
    data: { url: p.url, kind: p.kind, drill: p.drill },
  };
}
