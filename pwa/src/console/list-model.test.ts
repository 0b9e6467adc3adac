import { beforeEach, describe, expect, it } from 'vitest';
import { setLang } from '../i18n';
import { sizeText, type OperationRow } from './list-model';

const row = (over: Partial<OperationRow>): OperationRow => ({
  id: 'o1', kind: 'safety_check', mode: 'real', name: '安否確認', status: 'active', label: '', targets: 120, started_at: null, ...over,
});

describe("the console list's size of an operation", () => {
  beforeEach(() => setLang('ja'));

  it('counts the target households of a safety check', () => {
    expect(sizeText(row({}), undefined)).toBe('対象 120世帯');
  });

  it("shows a volunteer centre's open needs and today's volunteers, never 「対象 0世帯」", () => {
    const vc = row({ kind: 'vc', targets: 0 });
    const figures = { vc_day: '2026-12-06', open_needs: 12, waiting_needs: 5, volunteers_today: 34 };
    expect(sizeText(vc, figures)).toBe('未完了ニーズ 12件（マッチ待ち 5件） · 本日のボランティア 34人');
    setLang('en');
    expect(sizeText(vc, figures)).toBe('12 open needs (5 waiting for a team) · 34 volunteers today');
  });

  it('says nothing of a centre whose figures the viewer may not read', () => {
    expect(sizeText(row({ kind: 'vc', targets: 0 }), undefined)).toBeNull();
  });
});
