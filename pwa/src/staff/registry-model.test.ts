import { describe, expect, it } from 'vitest';
import { consentChanges, coordinate, EMPTY_PERSON, fieldsFor, householdPayload, personFormFrom, personPayload, todayJst, type ConsentOut, type PersonOut } from './registry-model';
import { coveredPercent, groupSuggestions, linkPayload, type Suggestion } from './watch-model';

describe('person and household forms → API payload', () => {
  it('trims, drops blank optional fields and de-duplicates lists', () => {
    expect(personPayload({ ...EMPTY_PERSON, name: ' 北山 澄子 ', kana: 'キタヤマ スミコ ', phone: ' ', birthDate: '1936-02-03', supportReasons: ['elderly_alone', 'elderly_alone'], medicalDevices: ['home_oxygen'] })).toEqual({
      name: '北山 澄子', kana: 'キタヤマ スミコ', sex: 'unknown', birth_date: '1936-02-03', support_reasons: ['elderly_alone'], medical_devices: ['home_oxygen'],
    });
  });

  it('sends numbers for coordinates (full-width digits too) and leaves bad text for the server to explain', () => {
    expect(coordinate(' 36.3259 ')).toBe(36.3259);
    expect(coordinate('１４０．３３０５')).toBe(140.3305);
    expect(coordinate('東経140度')).toBe('東経140度');
    const body = householdPayload({ address: ' 笠間市旭町510-1 ', lon: '140.3305', lat: '36.3259', town: '', notes: '', person: { ...EMPTY_PERSON, name: '北山 清' } });
    expect(body).toMatchObject({ address: '笠間市旭町510-1', lon: 140.3305, lat: 36.3259 });
    expect(body.people).toEqual([{ name: '北山 清', kana: '', sex: 'unknown', support_reasons: [], medical_devices: [] }]);
    expect(householdPayload({ address: 'a', lon: '1', lat: '2', town: '', notes: '', person: EMPTY_PERSON }).people).toEqual([]);
  });

  it('fills the edit form only from a fully disclosed person, and round-trips to the same payload', () => {
    const p: PersonOut = {
      id: 'p1', household_id: 'h1', name: '北山 清', kana: 'キタヤマ キヨシ', birth_date: '1934-08-15', sex: 'male', phone: null, version: 3,
      support_reasons: ['elderly_only_household'], care_level: null, mobility: 'cane', medical_devices: [], communication_needs: null, notes: '耳が遠い',
    };
    const form = personFormFrom(p)!;
    expect(form).toMatchObject({ birthDate: '1934-08-15', phone: '', mobility: 'cane', notes: '耳が遠い' });
    expect(personPayload(form)).toEqual({
      name: '北山 清', kana: 'キタヤマ キヨシ', sex: 'male', birth_date: '1934-08-15', support_reasons: ['elderly_only_household'],
      medical_devices: [], mobility: 'cane', notes: '耳が遠い',
    });
    expect(personFormFrom({ ...p, support_reasons: undefined })).toBeNull();
  });

  it('routes server field messages to the right form', () => {
    const all = new Map([['address', '住所が必要です'], ['people[0].kana', 'カタカナで'], ['$.lon', '市外です'], ['people[1].name', '別の人']]);
    expect([...fieldsFor(all)]).toEqual([['address', '住所が必要です'], ['lon', '市外です']]);
    expect([...fieldsFor(all, 'people[0].')]).toEqual([['address', '住所が必要です'], ['kana', 'カタカナで'], ['lon', '市外です']]);
  });
});

describe('consent matrix → API payload', () => {
  const current: ConsentOut[] = [
    { recipient_class: 'commissioner', dataset: 'roster', consented_on: '2025-04-01', source: '同意書', withdrawn_on: null },
    { recipient_class: 'fire', dataset: 'roster', consented_on: '2024-04-01', source: '同意書', withdrawn_on: '2025-01-10' },
  ];

  it('records new consent today, withdraws unticked consent keeping its date and source, skips the unchanged', () => {
    const wanted = new Map([
      ['commissioner|roster', false],
      ['fire|roster', true],
      ['watcher|plan', false],
      ['council|roster', true],
    ]);
    expect(consentChanges(current, wanted, '2026-11-27', ' 窓口 ')).toEqual([
      { recipient_class: 'commissioner', dataset: 'roster', consented_on: '2025-04-01', source: '同意書', withdrawn_on: '2026-11-27' },
      { recipient_class: 'fire', dataset: 'roster', consented_on: '2026-11-27', source: '窓口', withdrawn_on: null },
      { recipient_class: 'council', dataset: 'roster', consented_on: '2026-11-27', source: '窓口', withdrawn_on: null },
    ]);
    expect(consentChanges(current, new Map([['commissioner|roster', true]]), '2026-11-27', 'x')).toEqual([]);
  });

  it('takes today in Japan time', () => {
    expect(todayJst(new Date('2026-11-27T15:30:00Z'))).toBe('2026-11-28');
    expect(todayJst(new Date('2026-11-27T14:59:00Z'))).toBe('2026-11-27');
  });
});

describe('watch network', () => {
  const s = (household_id: string, kind: string, watcher_id: string, distance_m: number): Suggestion => ({ household_id, kind, watcher_id, distance_m });

  it('groups suggestions per household, primary first, keeping the server order of households', () => {
    const groups = groupSuggestions([s('h2', 'backup', 'w3', 200), s('h1', 'primary', 'w1', 90), s('h2', 'primary', 'w2', 120)]);
    expect(groups.map((g) => g.householdId)).toEqual(['h2', 'h1']);
    expect(groups[0]!.items.map((x) => x.kind)).toEqual(['primary', 'backup']);
  });

  it('accepting keeps the suggestion, changing names another watcher as a manual link', () => {
    const sug = s('h1', 'backup', 'w1', 90);
    expect(linkPayload(sug)).toEqual({ household_id: 'h1', watcher_id: 'w1', kind: 'backup', via: 'suggestion' });
    expect(linkPayload(sug, 'w9')).toEqual({ household_id: 'h1', watcher_id: 'w9', kind: 'backup', via: 'manual' });
  });

  it('reports the share of households with two watchers', () => {
    expect(coveredPercent({ households: 3, with_2_plus: 1 })).toBe(33.3);
    expect(coveredPercent({ households: 0, with_2_plus: 0 })).toBe(100);
  });
});

describe('area drawn on the map', async () => {
  const { ringToPolygon } = await import('./polygon-picker');
  const { operationPayload, declarationPayload } = await import('./operations-model');

  it('closes the ring, drops repeated clicks, needs three points', () => {
    expect(ringToPolygon([[140.1, 36.1], [140.2, 36.1]])).toBeNull();
    expect(ringToPolygon([[140.1, 36.1], [140.2, 36.1], [140.2, 36.1]])).toBeNull();
    expect(ringToPolygon([[140.1234567, 36.1], [140.2, 36.1], [140.2, 36.2]])).toEqual({
      type: 'Polygon',
      coordinates: [[[140.123457, 36.1], [140.2, 36.1], [140.2, 36.2], [140.123457, 36.1]]],
    });
  });

  it('goes into the operation and declaration payloads only when drawn', () => {
    const poly = ringToPolygon([[140.1, 36.1], [140.2, 36.1], [140.2, 36.2]]);
    const form = { kind: 'safety_check' as const, mode: 'drill' as const, name: 'x', districtIds: [], supportReasons: [], hazardKinds: [], firstReportMinutes: '', completionMinutes: '', start: false };
    expect(operationPayload({ ...form, geometry: poly }).geometry).toEqual(poly);
    expect('geometry' in operationPayload(form)).toBe(false);
    expect(declarationPayload({ mode: 'drill', reason: 'test', districtIds: [], geometry: poly }, false).geometry).toEqual(poly);
  });
});
