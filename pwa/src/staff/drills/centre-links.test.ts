import { describe, expect, it } from 'vitest';
import { centreLinks, mayOpenRun, runPath } from './centre-links';

const vcRun = { centre: { operation_id: 'op 1', opened_on: '2027-07-12' } };

describe('links between a drill run and its drill centre', () => {
  it('lead a VC run to the desk, the console map and the daily sheet of its opening day', () => {
    expect(centreLinks(vcRun, 'staff')).toEqual([
      { key: 'staff.drills.centreDesk', href: '/staff/vc/op%201/board' },
      { key: 'staff.drills.centreMap', href: '/console/vc/op%201' },
      { key: 'staff.drills.centreSheet', href: '/staff/vc/op%201/day/2027-07-12' },
    ]);
    expect(centreLinks(vcRun, 'coordinator').length).toBe(3);
    expect(centreLinks(vcRun, 'admin').length).toBe(3);
  });

  it('show each screen only to the roles that may open it', () => {
    // A lent desk helper works the desk and prints the sheet, but has no console.
    expect(centreLinks(vcRun, 'vc_desk').map((l) => l.key)).toEqual(['staff.drills.centreDesk', 'staff.drills.centreSheet']);
    for (const role of ['commissioner', 'watcher', 'vc_volunteer', '']) expect(centreLinks(vcRun, role)).toEqual([]);
    // And a safety check opens no centre.
    expect(centreLinks({ centre: null }, 'staff')).toEqual([]);
  });

  it('lead back to the run for those who may open drill runs only', () => {
    expect(runPath('r/1')).toBe('/staff/drills/r%2F1');
    expect(['admin', 'staff', 'coordinator'].every(mayOpenRun)).toBe(true);
    expect(['vc_desk', 'commissioner', 'watcher', 'vc_volunteer'].some(mayOpenRun)).toBe(false);
  });
});
