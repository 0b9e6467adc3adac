import { describe, expect, it } from 'vitest';
import type { OutboxRow } from '../device-db/db';
import { t } from '../i18n';
import { describeRecord, unsentByHousehold } from './refused';

const report = (state: OutboxRow['state'], last_error: string | null): OutboxRow => ({
  client_id: 'r1', state, attempts: 1, next_attempt_at: 0, last_error, created_at: 0,
  payload: {
    type: 'vc_report', operation_id: 'vc-op', client_id: 'r1', dispatch_id: 'd1', label: '【訓練】', outcome: 'continued',
    people: 3, hours: 2, injuries: 0, returns: [], device_time: '2026-12-06T10:00:00+09:00',
  },
});

describe("a leader's report in the outbox, in words (#18)", () => {
  it('says what it is and, when refused, why and in words like a refused visit', () => {
    const waiting = describeRecord(report('pending', null), new Map());
    expect(waiting.household).toBe(`【訓練】${t('refused.vcReport')}`);
    expect(waiting.what).toContain(t('vc.report.continued'));
    expect(waiting.why).toBeNull();
    expect(waiting.callNow).toBe(false);

    const refused = describeRecord(report('dead', 'invalid vc_already_reported: この送り出しの活動報告はすでに届いています。'), new Map());
    expect(refused.why).toBe(t('refused.why.vc_already_reported'));
    expect(describeRecord(report('dead', 'invalid vc_bad_date: x'), new Map()).why).toBe(t('refused.why.bad_device_time'));
    expect(describeRecord(report('conflict', 'conflict vc_report_conflict: x'), new Map()).why).toBe(t('refused.why.conflict'));
  });

  it('marks no household in a visit list', () => {
    expect(unsentByHousehold([report('dead', 'invalid x: y')], 'vc-op').size).toBe(0);
  });
});
