import type { MessageKey } from '../i18n';

/** The four import kinds of `POST /api/imports/{kind}`. */
export const IMPORT_KINDS = ['roster', 'districts', 'hazard-zones', 'shelters'] as const;
export type ImportKind = (typeof IMPORT_KINDS)[number];

export const KIND_LABEL: Record<ImportKind, MessageKey> = {
  roster: 'staff.imports.kind.roster',
  districts: 'staff.imports.kind.districts',
  'hazard-zones': 'staff.imports.kind.hazardZones',
  shelters: 'staff.imports.kind.shelters',
};

export const KIND_ACCEPT: Record<ImportKind, string> = {
  roster: '.csv,text/csv',
  districts: '.geojson,.json,application/geo+json,application/json',
  'hazard-zones': '.geojson,.json,application/geo+json,application/json',
  shelters: '.csv,text/csv',
};

export interface ImportIssue {
  row: number | null;
  column: string | null;
  code: string;
  severity: 'error' | 'warning' | string;
  message: { ja: string; en: string };
}

/** The server's `ImportReportOut`. */
export interface ImportReport {
  kind: ImportKind;
  dry_run: boolean;
  committed: boolean;
  total_rows: number;
  created: number;
  updated: number;
  skipped: number;
  errors: number;
  warnings: number;
  issues: ImportIssue[];
  approximate_locations: { row: number; address: string; town: string | null }[];
  households_created?: number;
}

/** Kind-specific options, as typed in the wizard (empty strings = not given). */
export interface ImportOptions {
  level?: string;
  parentCode?: string;
  hazardKind?: string;
  municipality?: string;
  consentSource?: string;
}

/** The multipart fields for one upload: only what the kind uses, blanks left out. */
export function importFields(kind: ImportKind, options: ImportOptions): Record<string, string> {
  const out: Record<string, string> = {};
  const put = (name: string, value: string | undefined) => {
    const v = value?.trim();
    if (v) out[name] = v;
  };
  if (kind === 'roster') put('consent_source', options.consentSource);
  if (kind === 'districts') {
    put('level', options.level);
    put('parent_code', options.parentCode);
  }
  if (kind === 'hazard-zones') put('hazard_kind', options.hazardKind);
  if (kind === 'shelters') put('municipality', options.municipality);
  return out;
}

export function importForm(kind: ImportKind, options: ImportOptions, file: File): FormData {
  const form = new FormData();
  form.append('file', file, file.name);
  for (const [name, value] of Object.entries(importFields(kind, options))) form.append(name, value);
  return form;
}

export function importPath(kind: ImportKind, dryRun: boolean): string {
  return `/api/imports/${encodeURIComponent(kind)}${dryRun ? '?dry_run=true' : ''}`;
}

/** Issues of one row (or of the whole file when `row` is null), errors first. */
export interface IssueGroup {
  row: number | null;
  errors: number;
  warnings: number;
  issues: ImportIssue[];
}

/**
 * Groups a report's issues by row for the table: file-level problems first (they usually
 * explain everything below), then rows in file order; inside a row, errors before warnings.
 */
export function groupIssues(issues: readonly ImportIssue[]): IssueGroup[] {
  const byRow = new Map<number | null, ImportIssue[]>();
  for (const issue of issues) {
    const list = byRow.get(issue.row) ?? [];
    list.push(issue);
    byRow.set(issue.row, list);
  }
  const rank = (s: string) => (s === 'error' ? 0 : 1);
  return [...byRow.entries()]
    .sort(([a], [b]) => (a === null ? -1 : b === null ? 1 : a - b))
    .map(([row, list]) => {
      const sorted = [...list].sort((x, y) => rank(x.severity) - rank(y.severity));
      return {
        row,
        errors: sorted.filter((i) => i.severity === 'error').length,
        warnings: sorted.filter((i) => i.severity !== 'error').length,
        issues: sorted,
      };
    });
}

/** A commit is offered only after a dry run of this very file that found no errors. */
export function canCommit(report: ImportReport | null): boolean {
  return !!report && report.dry_run && report.errors === 0 && report.total_rows > 0;
}

/** A 422 `import_failed` body carries the report that refused the commit. */
export function reportFromProblemBody(body: unknown): ImportReport | null {
  if (!body || typeof body !== 'object') return null;
  const report = (body as Record<string, unknown>)['report'];
  if (!report || typeof report !== 'object' || !Array.isArray((report as ImportReport).issues)) return null;
  return report as ImportReport;
}
