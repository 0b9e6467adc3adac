import { describe, expect, it } from 'vitest';
import { ApiError } from '../api/errors';
import { joinLinkState, posterPath, qrSource, type JoinLink } from './join-link';

const link: JoinLink = {
  url: 'https://tonari.example/vc/join/08216/0190-op',
  path: '/vc/join/08216/0190-op',
  qr_svg: '<svg xmlns="http://www.w3.org/2000/svg"><title>QR</title></svg>',
  centre: '笠間市災害VC',
  label: '【訓練】',
};

describe('the published pre-registration link', () => {
  it("an open centre's link is shown; a closed centre (409 vc_centre_closed) has none", () => {
    expect(joinLinkState({ link })).toEqual({ kind: 'open', link });
    const closed = new ApiError({ status: 409, code: 'vc_centre_closed', title: 'closed' });
    expect(joinLinkState({ error: closed })).toEqual({ kind: 'closed' });
    const other = new ApiError({ status: 500, code: 'internal', title: 'x' });
    expect(joinLinkState({ error: other })).toEqual({ kind: 'error', error: other });
    expect(joinLinkState({ error: new TypeError('offline') }).kind).toBe('error');
  });

  it('the QR is an image of the server SVG (a data: URL, not markup), the poster has its own page', () => {
    const src = qrSource(link);
    expect(src.startsWith('data:image/svg+xml;charset=utf-8,')).toBe(true);
    expect(decodeURIComponent(src.split(',')[1]!)).toBe(link.qr_svg);
    expect(src).not.toContain('<');
    expect(posterPath('a/b')).toBe('/staff/vc/a%2Fb/print/poster');
  });
});
