import { t } from '../i18n';

/** A row of `/api/operations` as the console's list reads it. */
export interface OperationRow {
  id: string;
  kind: 'watch_round' | 'safety_check' | 'vc';
  mode: 'real' | 'drill';
  name: string;
  status: 'draft' | 'active' | 'closed';
  label: string;
  targets: number;
  started_at: string | null;
}

/** A volunteer centre's figures of today, from `/api/vc/centres/` (counts only). */
export interface CentreFigures {
  vc_day: string;
  open_needs: number;
  waiting_needs: number;
  volunteers_today: number;
}

/**
 * What a row says about its size: the target households of a safety check or a round; for a
 * volunteer centre (which has no targets) its open needs, those waiting for a team and today's
 * volunteers — or nothing when the viewer may not read the centre's figures.
 */
export function sizeText(op: OperationRow, figures: CentreFigures | undefined): string | null {
  if (op.kind !== 'vc') return t('console.list.targets', { count: op.targets });
  if (!figures) return null;
  return t('console.list.vcFigures', { open: figures.open_needs, waiting: figures.waiting_needs, people: figures.volunteers_today });
}
