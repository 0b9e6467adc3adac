// Every action code and route name the server writes into the audit log has a label (#17): read
// from the server's own code, so a new audit call without a translation fails here.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { setLang, t } from '../i18n';
import { ACTION_LABEL, OBJECT_LABEL, VIA_LABEL } from './audit-model';

const SERVER = resolve(__dirname, '../../../server');

function pythonFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === 'migrations' ? [] : pythonFiles(p);
    return name.endsWith('.py') ? [p] : [];
  });
}

const code = pythonFiles(SERVER).map((p) => readFileSync(p, 'utf8')).join('\n');
const all = (re: RegExp) => [...code.matchAll(re)].map((m) => m[1]!);

describe('audit log labels', () => {
  it('name every action the server writes (escalation actions included, also in the filter)', () => {
    // audit(db, "a.b", …), the VC's audit_vc(db, centre, "vc.need.read", …) and sign-in's _audit_sign_in(db, user, "auth.…", …)
    const literal = all(/(?:\baudit(?:_vc)?|\b_audit_sign_in)\((?:\s*\w+,){1,2}\s*"([a-z_]+(?:\.[a-z_]+)+)"/g);
    const keyword = all(/action="([a-z_]+\.[a-z_]+)"/g);
    const escalation = ['acknowledged', 'resolved'].map((s) => `escalation.${s}`); // f"escalation.{new_status}"
    const reads = all(/audit_reads?\(\s*\w+,\s*"([a-z_]+)"/g).map((o) => `${o}.read`); // f"{object_type}.read"
    const deletes = all(/delete_audited\([^)]*"([a-z_]+)"\s*[,)]/g).map((o) => `${o}.delete`); // f"{object_type}.delete"
    const codes = new Set([...literal, ...keyword, ...escalation, ...reads, ...deletes]);
    expect(literal.length).toBeGreaterThan(20); // the scan finds the audit calls at all
    expect(reads).toContain('escalation.read');
    expect(literal).toEqual(expect.arrayContaining(['auth.login_refused', 'auth.login_failed', 'auth.temporary_password_expired']));
    expect([...codes].filter((c) => !(c in ACTION_LABEL)).sort()).toEqual([]);
    for (const c of ['escalation.acknowledged', 'escalation.resolved', 'escalation.assigned']) expect(Object.keys(ACTION_LABEL)).toContain(c);
  });

  it('name every route a read came through, in Japanese and English', () => {
    const vias = new Set(all(/\bvia="([a-z_.]+)"/g)); // not registered_via="desk" (a volunteer's source)
    expect(vias.size).toBeGreaterThan(10);
    expect([...vias].filter((v) => !(v in VIA_LABEL)).sort()).toEqual([]);
    setLang('ja');
    expect(t(VIA_LABEL['console.escalations']!)).toBe('コンソールの通報');
    setLang('en');
    expect(t(VIA_LABEL['console.escalations']!)).toBe('Console escalations');
    setLang('ja');
    expect(Object.keys(OBJECT_LABEL)).toContain('escalation');
  });
});
