import { describe, expect, it } from 'vitest';
import { vocabCodes } from '../vocab';
import { NEED_STATE_STYLE, needMapAction, needsPaint, needStyle, needsTileUrl } from './vc-needs-model';

describe('the needs map', () => {
  it('has a style for every need state of the vocabulary, each colour its own', () => {
    const states = vocabCodes('vc_need_states');
    expect(Object.keys(NEED_STATE_STYLE).sort()).toEqual([...states].sort());
    expect(new Set(states.map((s) => needStyle(s).color)).size).toBe(states.length);
    // Waiting needs stand out by size too (not by colour alone); closed ones recede.
    expect(needStyle('waiting').radius).toBeGreaterThan(needStyle('received').radius);
    expect(needStyle('done').radius).toBeLessThan(needStyle('received').radius);
  });

  it('paints by the live state first, then the tile state', () => {
    const color = needsPaint()['circle-color'] as unknown[];
    expect(color[0]).toBe('match');
    expect(color[1]).toEqual(['coalesce', ['feature-state', 'state'], ['get', 'state']]);
    expect(color).toContain('waiting');
    expect(color[color.indexOf('waiting') + 1]).toBe(needStyle('waiting').color);
  });

  it("asks for one centre's tiles", () => {
    expect(needsTileUrl('https://x.example', 'a b')).toBe('https://x.example/api/tiles/vc-needs/{z}/{x}/{y}.mvt?operation_id=a%20b');
  });

  it('moves a known need at once and fetches again for a new one', () => {
    const known = new Set(['n1']);
    expect(needMapAction(known, { need_id: 'n1', state: 'waiting' })).toEqual({ kind: 'state', id: 'n1', state: 'waiting' });
    expect(needMapAction(known, { need_id: 'n2', state: 'received' })).toEqual({ kind: 'reload' });
    expect(needMapAction(known, { state: 'received' })).toEqual({ kind: 'ignore' });
  });
});
