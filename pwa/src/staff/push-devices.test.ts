import { describe, expect, it } from 'vitest';
import { deviceLabel, failingDevicesSection, type FailingDevice } from './push-devices';

const DEVICE: FailingDevice = {
  id: 'd1', user_id: 'u1', login: 'minsei01', display_name: 'デモ 民生委員', role: 'commissioner',
  user_agent: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36',
  last_error: 'HTTP 502 Bad Gateway', failing_since: '2026-12-01T09:00:00+00:00', failures: 7,
  last_failure_at: '2026-12-06T09:00:00+00:00', last_success_at: null, created_at: '2026-11-01T09:00:00+00:00',
};

async function settled(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

describe('devices that keep failing (staff home)', () => {
  it('tells a phone from a PC by its browser and system', () => {
    expect(deviceLabel(DEVICE.user_agent)).toBe('Chrome / Android');
    expect(deviceLabel('Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Version/18.0 Mobile/15E148 Safari/604.1')).toBe('Safari / iOS');
    expect(deviceLabel(null)).toBe('不明な端末');
  });

  it('lists device, user, last error, failing since (how often) and last success', async () => {
    const section = failingDevicesSection({ get: async <T>() => [DEVICE] as T });
    await settled();
    const cells = [...section.querySelectorAll('tbody tr[data-device="d1"] td')].map((td) => td.textContent);
    expect(cells[0]).toBe('Chrome / Android');
    expect(cells[1]).toBe('デモ 民生委員（minsei01）');
    expect(cells[2]).toBe('HTTP 502 Bad Gateway');
    expect(cells[3]).toMatch(/から（7回）$/);
    expect(cells[4]).toBe('まだありません'); // never delivered to this device
    expect(section.querySelector('h2')?.textContent).toBe('通知が届いていない端末');
  });

  it('says when no device fails, and shows nothing to someone who may not read the list', async () => {
    const none = failingDevicesSection({ get: async <T>() => [] as T });
    const refused = failingDevicesSection({ get: async () => { throw new Error('403'); } });
    await settled();
    expect(none.textContent).toContain('通知の送信に失敗している端末はありません。');
    expect(refused.childElementCount).toBe(0);
  });
});
