import { describe, expect, it } from 'vitest';
import { auditQuery, EMPTY_FILTERS, nextDay } from './audit-model';
import { canCommit, groupIssues, importFields, importForm, importPath, reportFromProblemBody, type ImportIssue, type ImportReport } from './imports-model';
import { declarationPayload, districtTree, operationPayload, operationTitle, type District, type OperationForm } from './operations-model';
import { fitProjection, rings, ringsPath, subtreeIds } from './print-model';

const issue = (row: number | null, severity: string, code: string, column: string | null = null): ImportIssue => ({
  row,
  column,
  code,
  severity,
  message: { ja: `${code}のメッセージ`, en: code },
});

const report = (over: Partial<ImportReport> = {}): ImportReport => ({
  kind: 'roster', dry_run: true, committed: false, total_rows: 3, created: 3, updated: 0, skipped: 0, errors: 0, warnings: 0,
  issues: [], approximate_locations: [], ...over,
});

describe('import report grouping', () => {
  it('puts whole-file issues first, rows in file order, errors before warnings inside a row', () => {
    const groups = groupIssues([
      issue(5, 'warning', 'approximate_location', '住所'),
      issue(3, 'error', 'bad_date', '生年月日'),
      issue(5, 'error', 'outside_area', '緯度'),
      issue(null, 'warning', 'unknown_column'),
      issue(3, 'error', 'bad_phone', '電話番号'),
    ]);
    expect(groups.map((g) => g.row)).toEqual([null, 3, 5]);
    expect(groups[2]!.issues.map((i) => i.code)).toEqual(['outside_area', 'approximate_location']);
    expect(groups.map((g) => [g.errors, g.warnings])).toEqual([[0, 1], [2, 0], [1, 1]]);
  });

  it('is empty for a clean report', () => {
    expect(groupIssues([])).toEqual([]);
  });
});

describe('import commit gate', () => {
  it('allows a commit only after a clean dry run that read rows', () => {
    expect(canCommit(null)).toBe(false);
    expect(canCommit(report())).toBe(true);
    expect(canCommit(report({ errors: 1 }))).toBe(false);
    expect(canCommit(report({ warnings: 2 }))).toBe(true);
    expect(canCommit(report({ total_rows: 0 }))).toBe(false);
    expect(canCommit(report({ dry_run: false, committed: true }))).toBe(false);
  });

  it('reads the report out of a 422 import_failed body, and nothing out of other bodies', () => {
    const r = report({ dry_run: false, errors: 1, issues: [issue(2, 'error', 'bad_date')] });
    expect(reportFromProblemBody({ code: 'import_failed', report: r })).toEqual(r);
    expect(reportFromProblemBody({ code: 'validation_failed' })).toBeNull();
    expect(reportFromProblemBody('oops')).toBeNull();
    expect(reportFromProblemBody({ report: { issues: 'x' } })).toBeNull();
  });
});

describe('import form fields', () => {
  const options = { level: 'branch', parentCode: ' 08216-1 ', hazardKind: 'landslide', municipality: '茨城県笠間市', consentSource: '' };

  it('sends only the fields of the chosen kind, trimmed, blanks left out', () => {
    expect(importFields('roster', options)).toEqual({});
    expect(importFields('roster', { ...options, consentSource: '同意書（郵送）' })).toEqual({ consent_source: '同意書（郵送）' });
    expect(importFields('districts', options)).toEqual({ level: 'branch', parent_code: '08216-1' });
    expect(importFields('hazard-zones', options)).toEqual({ hazard_kind: 'landslide' });
    expect(importFields('shelters', options)).toEqual({ municipality: '茨城県笠間市' });
  });

  it('builds multipart data with the file and the path with or without dry_run', () => {
    const file = new File(['氏名\n'], 'meibo.csv', { type: 'text/csv' });
    const form = importForm('districts', options, file);
    expect((form.get('file') as File).name).toBe('meibo.csv');
    expect(form.get('level')).toBe('branch');
    expect(form.get('hazard_kind')).toBeNull();
    expect(importPath('hazard-zones', true)).toBe('/api/imports/hazard-zones?dry_run=true');
    expect(importPath('roster', false)).toBe('/api/imports/roster');
  });
});

describe('audit filters → query string', () => {
  it('sends nothing but the limit when no filter is set', () => {
    expect(auditQuery(EMPTY_FILTERS)).toBe('/api/audit?limit=50');
  });

  it('maps every filter, takes days in JST and makes "until" inclusive', () => {
    const url = auditQuery(
      { actorUserId: ' 0190-abc ', action: 'disaster.declare', objectType: 'person', objectId: 'p1', mode: 'disaster', since: '2026-03-01', until: '2026-03-31' },
      1234,
      20,
    );
    const q = new URL(url, 'http://x').searchParams;
    expect(Object.fromEntries(q)).toEqual({
      actor_user_id: '0190-abc',
      action: 'disaster.declare',
      object_type: 'person',
      object_id: 'p1',
      mode: 'disaster',
      since: '2026-03-01T00:00:00+09:00',
      until: '2026-04-01T00:00:00+09:00',
      before_id: '1234',
      limit: '20',
    });
  });

  it('ignores malformed dates and handles month and year ends', () => {
    expect(auditQuery({ ...EMPTY_FILTERS, since: '3/1', until: 'x' })).toBe('/api/audit?limit=50');
    expect(nextDay('2026-12-31')).toBe('2027-01-01');
    expect(nextDay('2028-02-28')).toBe('2028-02-29');
  });
});

describe('operation form → API payload', () => {
  const form: OperationForm = {
    kind: 'safety_check', mode: 'drill', name: '  訓練 ', districtIds: ['a', 'b', 'a'], supportReasons: ['elderly_alone'],
    hazardKinds: [], firstReportMinutes: '', completionMinutes: ' 600 ', start: true,
  };

  it('trims, de-duplicates and leaves blank targets to the server', () => {
    expect(operationPayload(form)).toEqual({
      kind: 'safety_check', mode: 'drill', name: '訓練', district_ids: ['a', 'b'], support_reasons: ['elderly_alone'],
      hazard_kinds: [], start: true, completion_minutes: 600,
    });
  });

  it('passes a non-number through so the server explains it', () => {
    expect(operationPayload({ ...form, firstReportMinutes: 'abc' }).first_report_minutes).toBe('abc');
  });

  it('marks every drill 【訓練】 and only drills', () => {
    expect(operationTitle({ mode: 'drill', name: '安否確認', label: '' })).toBe('【訓練】安否確認');
    expect(operationTitle({ mode: 'drill', name: '安否確認', label: '【訓練】' })).toBe('【訓練】安否確認');
    expect(operationTitle({ mode: 'real', name: '安否確認', label: '' })).toBe('安否確認');
  });

  it('sends confirm only for a confirmed real declaration', () => {
    const d = { mode: 'real' as const, reason: ' 震度6弱 ', districtIds: ['x', 'x'] };
    expect(declarationPayload(d, true)).toEqual({ mode: 'real', reason: '震度6弱', district_ids: ['x'], confirm: true });
    expect(declarationPayload(d, false).confirm).toBe(false);
    expect(declarationPayload({ ...d, mode: 'drill' }, true).confirm).toBe(false);
  });
});

describe('districts and print maps', () => {
  const d = (id: string, code: string, parent: string | null): District => ({ id, code, name: id, kana: null, level: 'branch', parent_id: parent, walking_radius_m: 300 });
  const all = [d('c2', '02', 'a'), d('a', '1', null), d('c1', '01', 'a'), d('g', '011', 'c1'), d('b', '2', null)];

  it('orders the tree parent first, children by code, with depth', () => {
    expect(districtTree(all).map((x) => `${x.district.id}:${x.depth}`)).toEqual(['a:0', 'c1:1', 'g:2', 'c2:1', 'b:0']);
  });

  it('finds a district with all its descendants', () => {
    expect(subtreeIds('a', all).sort()).toEqual(['a', 'c1', 'c2', 'g']);
    expect(subtreeIds('b', all)).toEqual(['b']);
  });

  it('projects north up and keeps the aspect ratio', () => {
    const proj = fitProjection([[140.0, 36.0], [140.1, 36.1]], 1000, 0);
    const [x0, y0] = proj.project(140.0, 36.1);
    const [x1, y1] = proj.project(140.1, 36.0);
    expect([x0, y0]).toEqual([0, 0]);
    expect(x1).toBeCloseTo(1000);
    expect(y1).toBeCloseTo(1000 / Math.cos((36.05 * Math.PI) / 180), 0);
    expect(proj.height).toBe(Math.round(y1));
  });

  it('draws polygons and multipolygons as closed paths', () => {
    const square = [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]];
    expect(rings({ type: 'Polygon', coordinates: square })).toHaveLength(1);
    expect(rings({ type: 'MultiPolygon', coordinates: [square, square] })).toHaveLength(2);
    expect(rings({ type: 'Point', coordinates: [0, 0] })).toEqual([]);
    const path = ringsPath(rings({ type: 'Polygon', coordinates: square }) , fitProjection([[0, 0], [1, 1]], 100, 0));
    expect(path.startsWith('M0.0,100.0L')).toBe(true);
    expect(path.endsWith('Z')).toBe(true);
  });
});
