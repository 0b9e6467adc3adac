// The console's panels rendered from a state (#17): each operation kind's own outcome words, 不明
// kept apart from 未訪問, escalation cards that say who they are about, a memo saved once, the
// household panel's status, and a closed operation that does not claim to be live.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { ApiClient } from '../../api/client';
import { setLang } from '../../i18n';
import { renderCounters } from './counters';
import { renderDetail } from './detail';
import { escalationPanel } from './escalations-panel';
import { renderFilters } from './filters';
import { renderLegend } from './legend';
import type { Summary } from './progress';
import { initialState, type Escalation, type LiveActions, type LiveState } from './state';

function summaryOf(kind: 'watch_round' | 'safety_check', statuses: Record<string, number>, status = 'active'): Summary {
  const total = Object.values(statuses).reduce((a, b) => a + b, 0);
  return {
    operation: { id: 'op', kind, mode: 'real', name: 'x', status, label: '', started_at: '2026-11-27T00:00:00Z', targets: total, first_report_minutes: 180, completion_minutes: 1440 },
    latest_event_id: 1, overdue_at: null, late_at: null, statuses,
    districts: [{ district_id: 'd1', name: '笠間小学校区', total, confirmed: 0, overdue: 0, late: 0, need_help: 0, time_to_first_report_s: null, statuses }],
  };
}

function stateOf(kind: 'watch_round' | 'safety_check', statuses: Record<string, number>): LiveState {
  const s = initialState('op');
  s.summary = summaryOf(kind, statuses);
  return s;
}

const legendWords = (el: HTMLElement) => [...el.querySelectorAll('[data-legend] > span:not(.legend-count)')].map((x) => x.textContent);
const noActions: LiveActions = { openHousehold: vi.fn(), closeDetail: vi.fn(), selectTab: vi.fn(), loadOlder: vi.fn(), act: vi.fn(), setFilter: vi.fn() };

beforeEach(() => setLang('ja'));

describe('outcome words per operation kind', () => {
  it('a watch round speaks 異常なし/不在/要連絡/緊急, never the safety-check words', () => {
    const el = document.createElement('div');
    renderLegend(el, stateOf('watch_round', { ok: 3, away: 2, contact: 1, emergency: 1, unreached: 4 }));
    const words = legendWords(el);
    expect(words).toEqual(expect.arrayContaining(['異常なし', '不在（再訪問）', '要連絡', '緊急', '未訪問']));
    for (const w of ['無事', '要救助', '負傷', '避難済']) expect(words).not.toContain(w);
    const count = (s: string) => el.querySelector(`[data-legend-count="${s}"]`)?.textContent;
    expect([count('ok'), count('away'), count('contact'), count('emergency'), count('unreached')]).toEqual(['3件', '2件', '1件', '1件', '4件']);
    expect(el.querySelector('[data-legend="safe"]')).toBeNull();

    const form = document.createElement('form');
    renderFilters(form, stateOf('watch_round', {}), noActions);
    const options = [...form.querySelectorAll('#console-filter-status option')].map((o) => o.textContent);
    expect(options).toEqual(expect.arrayContaining(['異常なし', '不在（再訪問）', '要連絡', '緊急']));
    expect(options).not.toContain('無事');
  });

  it('a safety check speaks 無事/負傷/要救助/避難済/不明, and 不明 (visited) is not 未訪問', () => {
    const el = document.createElement('div');
    renderLegend(el, stateOf('safety_check', { safe: 5, injured: 1, rescue: 1, evacuated: 2, unknown: 3, unreached: 4 }));
    const words = legendWords(el);
    expect(words).toEqual(expect.arrayContaining(['無事', '負傷', '要救助', '避難済', '不明（訪問済み・状態不明）', '未訪問']));
    for (const w of ['異常なし', '緊急', '要連絡']) expect(words).not.toContain(w);
    expect(el.querySelector('[data-legend-count="unknown"]')?.textContent).toBe('3件');
    expect(el.querySelector('[data-legend-count="unreached"]')?.textContent).toBe('4件');
    // Visited-unknown and not-visited look different too (not by colour alone).
    const circle = (s: string) => el.querySelector(`[data-legend="${s}"] svg circle`);
    expect(circle('unknown')?.outerHTML).not.toBe(circle('unreached')?.outerHTML);
    expect(circle('unknown')?.getAttribute('r')).not.toBe(circle('unreached')?.getAttribute('r'));
  });
});

function escalation(over: Partial<Escalation> = {}): Escalation {
  return { id: 'e1', household_id: 'h1', level: 'urgent', outcome: 'rescue', status: 'open', mode: 'real', created_at: '2026-11-27T01:00:00Z',
    notes: null, assigned_to: null, assigned_to_name: null, address: '笠間市笠間1-1', people: [{ name: '見本 一郎', phone: '0296-72-0000' }], ...over };
}

describe('escalation cards', () => {
  it('name the household and its people where the viewer may see them, with a number to call', () => {
    const s = stateOf('safety_check', {});
    s.escalations = [escalation()];
    const el = document.createElement('div');
    el.append(...escalationPanel(s, noActions));
    expect(el.querySelector('[data-esc-address]')?.textContent).toBe('笠間市笠間1-1');
    expect(el.querySelector('[data-esc-people]')?.textContent).toContain('見本 一郎');
    expect(el.querySelector('a[href="tel:0296-72-0000"]')).not.toBeNull();
  });

  it('save a memo written before 確認した once, not again with 対応完了にする', async () => {
    const s = stateOf('safety_check', {});
    s.escalations = [escalation()];
    const el = document.createElement('div');
    const post = vi.fn(async (_path: string, _body: unknown) => ({}));
    const render = () => el.replaceChildren(...escalationPanel(s, actions));
    const actions: LiveActions = {
      ...noActions,
      act: (fn) => void fn({ post } as unknown as ApiClient).then(() => {
        s.escalations = [escalation({ status: 'acknowledged', notes: '家族に連絡済み' })];
        render();
      }),
    };
    render();
    const note = el.querySelector<HTMLTextAreaElement>('#esc-note-e1')!;
    note.value = '家族に連絡済み';
    note.dispatchEvent(new Event('input'));
    el.querySelector<HTMLButtonElement>('[data-ack="e1"]')!.click();
    await vi.waitFor(() => expect(post).toHaveBeenCalledTimes(1));
    await Promise.resolve();
    el.querySelector<HTMLButtonElement>('[data-resolve="e1"]')!.click();
    await vi.waitFor(() => expect(post).toHaveBeenCalledTimes(2));
    expect(post.mock.calls[0]).toEqual(['/api/escalations/e1/acknowledge', { note: '家族に連絡済み' }]);
    expect(post.mock.calls[1]).toEqual(['/api/escalations/e1/resolve', { note: null }]);
  });

  it('open the household with its status, so the panel says 要救助 instead of pointing at the map', () => {
    const s = stateOf('safety_check', {});
    s.escalations = [escalation()];
    const openHousehold = vi.fn();
    const el = document.createElement('div');
    el.append(...escalationPanel(s, { ...noActions, openHousehold }));
    el.querySelector<HTMLButtonElement>('[data-show-household="h1"]')!.click();
    expect(openHousehold).toHaveBeenCalledWith('h1', 'rescue');

    s.detail = { id: 'h1', known: 'rescue', error: null, data: { id: 'h1', address: '笠間市笠間1-1', town: null, district_id: 'd1', disclosed_under: 'normal', people: [{ id: 'p1', name: '見本 一郎', phone: '0296-72-0000' }] } };
    const detail = document.createElement('aside');
    renderDetail(detail, s, noActions);
    expect(detail.querySelector('[data-status="rescue"]')?.textContent).toBe('要救助');
    expect(detail.textContent).toContain('見本 一郎');
    expect(detail.textContent).not.toContain('地図の表示をご覧ください');
  });
});

describe('target counts', () => {
  it('say why the console shows fewer households than the operation targets', () => {
    const s = stateOf('safety_check', { unreached: 657 });
    s.summary!.operation.targets = 732;
    const el = document.createElement('div');
    renderCounters(el, s);
    const note = el.querySelector('[data-hidden-targets]');
    expect(note?.getAttribute('data-hidden-targets')).toBe('75');
    expect(note?.textContent).toContain('732世帯');
    expect(note?.textContent).toContain('657世帯');
    expect(note?.textContent).toContain('同意がない');

    s.summary!.operation.targets = 657; // everything visible: nothing to explain
    renderCounters(el, s);
    expect(el.querySelector('[data-hidden-targets]')).toBeNull();
  });
});
