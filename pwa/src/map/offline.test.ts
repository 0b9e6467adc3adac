import { describe, expect, it, vi } from 'vitest';
import { areaUrls, downloadArea, formatBytes, userKey } from './offline';

const bounds = { west: 140.2585, south: 36.373, east: 140.26, north: 36.3755 };

describe('download my area', () => {
  it('lists our layers and the base map for the area, without duplicates', () => {
    const urls = areaUrls(bounds, [
      { template: 'http://x/api/tiles/households/{z}/{x}/{y}.mvt?operation_id=1', minZoom: 13, maxZoom: 17, credentials: 'same-origin' },
      { template: 'http://x/api/tiles/households/{z}/{x}/{y}.mvt?operation_id=1', minZoom: 13, maxZoom: 17, credentials: 'same-origin' },
      { template: 'https://b/{z}/{x}/{y}.png', minZoom: 13, maxZoom: 16, credentials: 'omit' },
    ]);
    const own = urls.filter((u) => u.url.startsWith('http://x/'));
    const base = urls.filter((u) => u.url.startsWith('https://b/'));
    expect(own.length).toBeGreaterThan(5);
    expect(new Set(urls.map((u) => u.url)).size).toBe(urls.length);
    expect(base.every((u) => u.credentials === 'omit' && !u.url.includes('/17/'))).toBe(true);
    expect(own.some((u) => u.url.includes('/17/'))).toBe(true);
    expect(own[0]!.url).toMatch(/^http:\/\/x\/api\/tiles\/households\/13\/\d+\/\d+\.mvt\?operation_id=1$/);
  });

  it('fetches everything, counts bytes and failures, and reports progress', async () => {
    const urls = Array.from({ length: 10 }, (_, i) => ({ url: `u${i}`, credentials: 'same-origin' as const }));
    const fetchImpl = vi.fn(async (url: string | URL | Request) =>
      String(url) === 'u3' ? new Response('no', { status: 500 }) : new Response('x'.repeat(100)),
    ) as unknown as typeof fetch;
    const seen: number[] = [];
    const p = await downloadArea(urls, (x) => seen.push(x.done + x.failed), new AbortController().signal, fetchImpl, 3);
    expect(p).toEqual({ done: 9, total: 10, failed: 1, bytes: 900 });
    expect(seen).toHaveLength(10);
    expect(seen.at(-1)).toBe(10);
  });

  it('stops when cancelled and keeps what it has', async () => {
    const ctrl = new AbortController();
    const urls = Array.from({ length: 50 }, (_, i) => ({ url: `u${i}`, credentials: 'same-origin' as const }));
    const fetchImpl = vi.fn(async () => new Response('x'.repeat(10))) as unknown as typeof fetch;
    const p = await downloadArea(urls, (x) => { if (x.done === 5) ctrl.abort(); }, ctrl.signal, fetchImpl, 1);
    expect(p.done).toBe(5);
    expect(fetchImpl).toHaveBeenCalledTimes(5);
  });

  it('formats sizes and hashes user ids into short cache keys', async () => {
    expect(formatBytes(1500)).toBe('2 KB');
    expect(formatBytes(2_500_000)).toBe('2.5 MB');
    const a = await userKey('user-a');
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(a).not.toBe(await userKey('user-b'));
    expect(a).toBe(await userKey('user-a'));
  });
});
