import { describe, expect, it } from 'vitest';
import { areaFrom, consentChanges, contactsPayload, coordinate, districtPayload, emptyDistrictForm, emptyHazardZoneForm, emptyShelterForm, EMPTY_PERSON, fieldsFor, hazardZonePayload, householdPayload, parseRing, personFormFrom, personPayload, shelterPayload, subtreeCounts, designationLabels, supportersFrom, supportersHidden, supportersPayload, todayJst, type ConsentOut, type PersonOut } from './registry-model';
import { ApiError } from '../api/errors';
import { toProblem } from '../api/problem';
import { coveredPercent, farLinkWarning, groupSuggestions, linkPayload, type Suggestion } from './watch-model';

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
      emergency_contacts: [{ name: '北山 一郎', phone: '090-1234-5678', relationship: '長男' }],
    };
    const form = personFormFrom(p)!;
    expect(form).toMatchObject({ birthDate: '1934-08-15', phone: '', mobility: 'cane', notes: '耳が遠い' });
    expect(personPayload(form)).toEqual({
      name: '北山 清', kana: 'キタヤマ キヨシ', sex: 'male', birth_date: '1934-08-15', support_reasons: ['elderly_only_household'],
      medical_devices: [], mobility: 'cane', notes: '耳が遠い',
      emergency_contacts: [{ name: '北山 一郎', phone: '090-1234-5678', relationship: '長男' }],
    });
    expect(personFormFrom({ ...p, support_reasons: undefined })).toBeNull();
    // The API leaves an empty contact list out: it is an empty list, sent back as one.
    expect(personPayload(personFormFrom({ ...p, emergency_contacts: undefined })!).emergency_contacts).toEqual([]);
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
    expect(linkPayload(sug, 'w9', true)).toEqual({ household_id: 'h1', watcher_id: 'w9', kind: 'backup', via: 'manual', confirm_far: true });
  });

  it('recognises the server\'s "beyond walking distance" answer, and only that one', () => {
    // The body as the server sends it: the extension members survive the parsing.
    const far = new ApiError(toProblem({ code: 'watch_link_beyond_radius', status: 409, message: { ja: '…' }, distance_m: 14012, walking_radius_m: 300 }, 409));
    expect(farLinkWarning(far)).toEqual({ distance: 14012, radius: 300 });
    expect(farLinkWarning(new ApiError(toProblem({ code: 'conflict', reason: 'over_capacity' }, 409)))).toBeNull();
    expect(farLinkWarning(new Error('offline'))).toBeNull();
    expect(farLinkWarning(null)).toBeNull();
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

describe('shelter, district and hazard-zone forms → API payload', () => {
  it('shelter: numbers for position and capacity, blanks left out, bad text left for the server', () => {
    expect(shelterPayload({ ...emptyShelterForm(), kind: 'welfare', name: ' 笠間市福祉センター ', lon: '140.3301', lat: '３６．３２６２', capacity: '１２０', hazards: ['flood', 'earthquake', 'flood'] })).toEqual({
      kind: 'welfare', name: '笠間市福祉センター', lon: 140.3301, lat: 36.3262, capacity: 120, hazards: ['flood', 'earthquake'],
    });
    const bad = shelterPayload({ ...emptyShelterForm(), name: 'x', lon: '東経140', lat: '36', capacity: '百', address: ' 笠間市中央1-1 ' });
    expect(bad).toMatchObject({ kind: 'designated', lon: '東経140', capacity: '百', address: '笠間市中央1-1', hazards: [] });
    expect('capacity' in shelterPayload({ ...emptyShelterForm(), capacity: ' ' })).toBe(false);
  });

  it('typed corner points: one pair per line (full-width too); anything else is unreadable', () => {
    expect(parseRing('140.30,36.38\n140.34 36.38\n１４０．３４，３６．４０\n')).toEqual([[140.3, 36.38], [140.34, 36.38], [140.34, 36.4]]);
    expect(parseRing('')).toEqual([]);
    expect(parseRing('140.30,36.38\n北の角')).toBeNull();
  });

  it('area: the drawn polygon first, else the typed ring closed, else an empty polygon for the server to refuse', () => {
    const drawn = { type: 'Polygon' as const, coordinates: [[[1, 1], [2, 1], [2, 2], [1, 1]]] as [number, number][][] };
    expect(areaFrom(drawn, [[9, 9], [8, 8], [7, 9]])).toBe(drawn);
    expect(areaFrom(null, [[1, 1], [2, 1], [2, 2]])).toEqual({ type: 'Polygon', coordinates: [[[1, 1], [2, 1], [2, 2], [1, 1]]] });
    expect(areaFrom(null, [[1, 1], [2, 1], [2, 2], [1, 1]]).coordinates[0]).toHaveLength(4);
    expect(areaFrom(null, [[1, 1], [2, 1]])).toEqual({ type: 'Polygon', coordinates: [] });
  });

  it('district and hazard zone: trimmed, optional fields only when given', () => {
    const geometry = areaFrom(null, [[1, 1], [2, 1], [2, 2]]);
    expect(districtPayload({ ...emptyDistrictForm(), code: ' 08216-99 ', name: '試験区', kana: '', radius: '４００' }, geometry)).toEqual({
      code: '08216-99', name: '試験区', level: 'unit', geometry, walking_radius_m: 400,
    });
    expect(districtPayload({ ...emptyDistrictForm(), code: 'a', name: 'b', kana: 'シケン', parentId: 'p1', level: 'branch', radius: '' }, geometry)).toEqual({
      code: 'a', name: 'b', level: 'branch', geometry, kana: 'シケン', parent_id: 'p1',
    });
    expect(hazardZonePayload({ ...emptyHazardZoneForm(), level: ' 3m以上 ', name: '' }, geometry)).toEqual({ kind: 'flood', geometry, level: '3m以上' });
  });
});

describe('emergency contacts and plan supporters', () => {
  it('contacts: trimmed, fully blank rows dropped', () => {
    expect(contactsPayload([{ name: ' 北山 一郎 ', phone: '090-1234-5678', relationship: '' }, { name: ' ', phone: '', relationship: '' }])).toEqual([
      { name: '北山 一郎', phone: '090-1234-5678', relationship: '' },
    ]);
  });

  it('supporters: edited rows keep the keys the form does not show; new blank rows dropped; removed rows gone', () => {
    const stored = [
      { name: '見守 太郎', phone: '0296-11-2222', relationship: '見守り協力員', role: 'primary', watcher_key: 'w1', consented_on: '2026-04-01', withdrawn_on: null },
      { name: '見守 花子', phone: '0296-33-4444', relationship: '見守り協力員', role: 'backup', consented_on: '2026-04-02', withdrawn_on: null },
    ];
    const rows = supportersFrom(stored);
    rows[0]!.phone = '090-9999-0000';
    rows.splice(1, 1);
    rows.push({ original: null, name: '近所 次郎', phone: '', relationship: '隣人', consentedOn: '2026-11-20' }, { original: null, name: '', phone: '', relationship: '', consentedOn: '' });
    expect(supportersPayload(rows)).toEqual([
      { ...stored[0], phone: '090-9999-0000' },
      { name: '近所 次郎', phone: '', relationship: '隣人', consented_on: '2026-11-20' },
    ]);
    expect(supportersPayload(supportersFrom(stored))).toEqual(stored);
  });

  it('a withheld supporter locks the plan editor', () => {
    expect(supportersHidden([{ name: '見守 太郎', consented_on: '2026-04-01' }])).toBe(false);
    expect(supportersHidden([{ name: '見守 太郎', consented_on: '2026-04-01' }, { name: null, consent: 'not_given' }])).toBe(true);
  });
});

describe('district counts in the registry table', () => {
  it('counts an area with its branches and units, as its print list does', () => {
    const districts = [
      { id: 'A', parent_id: null },
      { id: 'B1', parent_id: 'A' },
      { id: 'B2', parent_id: 'A' },
      { id: 'U1', parent_id: 'B1' },
      { id: 'X', parent_id: null },
    ];
    const counts = [
      { district_id: 'B1', households: 600, people: 700 },
      { district_id: 'U1', households: 50, people: 60 },
      { district_id: 'B2', households: 300, people: 350 },
      { district_id: null, households: 7, people: 9 },
    ];
    const by = subtreeCounts(districts, counts);
    expect(by.get('A')).toEqual({ households: 950, people: 1110 });
    expect(by.get('B1')).toEqual({ households: 650, people: 760 });
    expect(by.get('U1')).toEqual({ households: 50, people: 60 });
    expect(by.get('X')).toEqual({ households: 0, people: 0 });
  });

  it('stops on a parent cycle instead of looping', () => {
    const by = subtreeCounts([{ id: 'A', parent_id: 'B' }, { id: 'B', parent_id: 'A' }], [{ district_id: 'A', households: 3, people: 4 }]);
    expect(by.get('A')).toEqual({ households: 3, people: 4 });
    expect(by.get('B')).toEqual({ households: 3, people: 4 });
  });
});

describe('shelter designations', () => {
  it('names every designation of one facility, in the vocabulary order', () => {
    expect(designationLabels({ kind: 'designated', designations: ['emergency_site', 'designated'] })).toEqual([
      '指定避難所', '指定緊急避難場所',
    ]);
    expect(designationLabels({ kind: 'emergency_site' })).toEqual(['指定緊急避難場所']);
  });
});
