import { describe, expect, it } from 'vitest';
import {
  myDispatchSource,
  otherCentres,
  type MyDispatch,
  applyNeedEvent,
  boardColumns,
  deskPath,
  equipmentLines,
  fullReturns,
  isDeskStep,
  reportNumbers,
  returnLines,
  peopleOf,
  tokenFromScan,
  unassigned,
  type Need,
  type Team,
  type Volunteer,
} from './model';

const need = (id: string, state: string): Need => ({
  id, operation_id: 'op', requester_name: 'x', requester_kana: '', phone: null, address: `a-${id}`, lon: 140, lat: 36,
  location_approximate: false, damage_kinds: [], work_types: [], equipment: [], flags: [], people_needed: 2,
  hours_estimated: null, needs_truck: false, notes: null, remaining: null, state, received_on: '2026-12-06', closed_on: null, label: '',
});

const vol = (id: string, over: Partial<Volunteer> = {}): Volunteer => ({
  id, kind: 'individual', name: id, group_name: null, group_size: 1, age_band: 'age_30_49', prefecture: '08', skills: [],
  light_truck: false, insurance: 'enrolled', guardian_consent_by: null, registered_via: 'desk', checked_in_on: '2026-12-06', label: '', ...over,
});

describe('the needs board', () => {
  it('has one column per state in the order of the day, each with its needs', () => {
    const cols = boardColumns([need('1', 'waiting'), need('2', 'received'), need('3', 'waiting'), need('4', 'continued')]);
    expect(cols.map(([s]) => s)).toEqual(['received', 'survey', 'waiting', 'active', 'done', 'continued']);
    expect(cols.map(([, l]) => l.map((n) => n.id))).toEqual([['2'], [], ['1', '3'], [], [], ['4']]);
  });

  it('moves a card on a vc.need event and asks for a reload when the need is unknown', () => {
    const before = [need('1', 'waiting'), need('2', 'received')];
    const after = applyNeedEvent(before, { need_id: '1', state: 'active', team_id: 't' });
    expect(after?.map((n) => n.state)).toEqual(['active', 'received']);
    expect(before[0]!.state).toBe('waiting');
    expect(applyNeedEvent(before, { need_id: 'new', state: 'received' })).toBeNull();
  });
});

describe('the desk', () => {
  it('routes each step and rejects an unknown one', () => {
    expect(deskPath('a b', 'reception')).toBe('/staff/vc/a%20b/reception');
    expect(isDeskStep('matching')).toBe(true);
    expect(isDeskStep('nope')).toBe(false);
    expect(isDeskStep(undefined)).toBe(false);
  });

  it('reads the token from a scan: trimmed, from a URL form too, nothing from blank or oversized text', () => {
    expect(tokenFromScan('  abc.DEF_12\n')).toBe('abc.DEF_12');
    expect(tokenFromScan('https://tonari.example/vc?t=tok123')).toBe('tok123');
    expect(tokenFromScan('   ')).toBeNull();
    expect(tokenFromScan('x'.repeat(201))).toBeNull();
  });

  it('offers only volunteers not yet in a team, and counts a group by its size', () => {
    const vs = [vol('a'), vol('b'), vol('g', { kind: 'group', group_size: 8 })];
    const teams = [{ member_ids: ['a'] } as Team];
    expect(unassigned(vs, teams).map((v) => v.id)).toEqual(['b', 'g']);
    expect(peopleOf(vs)).toBe(10);
  });

  it('sends only positive whole equipment quantities and returns everything still out', () => {
    expect(equipmentLines({ shovel: '4', sandbags: '', wheelbarrow: '0', pressure_washer: '1.5' })).toEqual([{ code: 'shovel', quantity: 4 }]);
    expect(fullReturns({ shovel: 4, sandbags: 0 })).toEqual([{ code: 'shovel', returned: 4 }]);
  });
});

describe('returns at the desk', () => {
  it('sends whole non-negative numbers per item and leaves out items with nothing back or lost', () => {
    expect(returnLines({
      shovel: { returned: '2', lost: '1' },
      sandbags: { returned: '', lost: '' },
      wheelbarrow: { returned: '-1', lost: '0' },
      pressure_washer: { returned: '0.5', lost: '' },
      tarp: { returned: '', lost: '3' },
    })).toEqual([{ code: 'shovel', returned: 2, lost: 1 }, { code: 'tarp', returned: 0, lost: 3 }]);
  });
});

describe("the leader's report form", () => {
  it('accepts the numbers the server accepts and nothing else', () => {
    expect(reportNumbers({ people: '4', hours: '2.5', injuries: '' })).toEqual({ people: 4, hours: 2.5, injuries: 0 });
    for (const bad of [{ people: '', hours: '2', injuries: '0' }, { people: '4', hours: '', injuries: '0' }, { people: '4.5', hours: '2', injuries: '0' },
      { people: '4', hours: '25', injuries: '0' }, { people: '501', hours: '2', injuries: '0' }, { people: '4', hours: '2', injuries: '-1' }, { people: '4', hours: 'x', injuries: '0' }]) {
      expect(reportNumbers(bad)).toBeNull();
    }
  });
});

describe('the phone view of a login at several centres', () => {
  const mine = (over: Partial<MyDispatch>): MyDispatch => ({
    volunteer_id: 'v', team: null, dispatch: null, need: null, emergency: ['110', '119'], label: '', ...over,
  });

  it("asks for the server's choice, or for one centre (cached apart)", () => {
    expect(myDispatchSource(null)).toEqual({ url: '/api/vc/me', cacheKey: 'vc-me' });
    expect(myDispatchSource('a b')).toEqual({ url: '/api/vc/me?operation_id=a%20b', cacheKey: 'vc-me:a b' });
  });

  it('offers the other centres, each with its own label, never the one shown', () => {
    const centres = [
      { operation_id: 'real', name: '笠間VC', status: 'active', label: '' },
      { operation_id: 'drill', name: '訓練VC', status: 'active', label: '【訓練】' },
    ];
    expect(otherCentres(mine({ operation_id: 'real', centres }))).toEqual([centres[1]]);
    expect(otherCentres(mine({ operation_id: 'drill', label: '【訓練】', centres }))).toEqual([centres[0]]);
    expect(otherCentres(mine({}))).toEqual([]);
    expect(otherCentres(null)).toEqual([]);
  });
});
