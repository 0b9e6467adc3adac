import { describe, expect, it } from 'vitest';
import { staffNavFor } from './shell';

const paths = (role: string | null) => staffNavFor(role).map((i) => i.path);

describe('staff navigation by role', () => {
  it('shows each role only the screens it may use', () => {
    expect(paths('admin')).toContain('/staff/users');
    expect(paths('admin')).toContain('/staff/audit');
    expect(paths('staff')).not.toContain('/staff/users');
    expect(paths('staff')).toContain('/staff/audit');
    expect(paths('coordinator')).not.toContain('/staff/audit');
    expect(paths('coordinator')).toContain('/staff/drills');
    expect(paths('coordinator')).toContain('/staff/vc');
    // A helper lent by another council (vc_desk) runs the desk and nothing else.
    expect(paths('vc_desk')).toEqual(['/staff/vc']);
  });

  it('shows everything while the role is not known yet', () => {
    expect(paths(null)).toHaveLength(9);
  });
});
