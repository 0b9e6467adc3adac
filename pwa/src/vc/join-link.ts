import { ApiError } from '../api/errors';

/** The public pre-registration page as the desk publishes it (`GET /api/vc/centres/:op/join-link`). */
export interface JoinLink {
  /** The page's full address: what is copied, shown under the QR and printed on the poster. */
  url: string;
  path: string;
  /** The address as a QR code (server-side segno SVG), shown as an <img>, never parsed into the page. */
  qr_svg: string;
  centre: string;
  /** "【訓練】" for a drill centre: the section and the poster say so. */
  label: string;
}

/** The A4 poster of a centre's pre-registration page. */
export function posterPath(op: string): string {
  return `/staff/vc/${encodeURIComponent(op)}/print/poster`;
}

/** The QR as an image source: a data: URL of the server's SVG (the CSP allows data: images). */
export function qrSource(link: JoinLink): string {
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(link.qr_svg)}`;
}

/**
 * What the desk and the poster show: the link of an open centre; for a closed one (the server
 * answers 409 `vc_centre_closed`) nothing to publish. Any other failure is the caller's to show.
 */
export function joinLinkState(result: { link: JoinLink } | { error: unknown }): { kind: 'open'; link: JoinLink } | { kind: 'closed' } | { kind: 'error'; error: unknown } {
  if ('link' in result) return { kind: 'open', link: result.link };
  const closed = result.error instanceof ApiError && result.error.problem.code === 'vc_centre_closed';
  return closed ? { kind: 'closed' } : { kind: 'error', error: result.error };
}
