// Message keys of the live page: what each status, event kind, band, connection state and tab is called.
// Outcomes, support reasons and hazard-zone kinds are labelled by the vocabulary (`vocabLabel`).
import { outcomeLabel } from '../../field/model';
import { t, type MessageKey } from '../../i18n';
import { inVocab } from '../../vocab';
import type { Tab } from './state';
import type { ConnState } from './stream';

/** Words for an outcome or a derived status (未訪問, 遅延, 期限超過); `null` for a code neither knows. */
export function outcomeText(code: string): string | null {
  if (code === 'unreached') return t('op.status.unreached');
  if (code === 'late') return t('map.status.late');
  if (code === 'overdue') return t('console.status.overdue');
  return inVocab('outcomes', code) ? outcomeLabel(code) : null;
}

export const KIND_KEYS: Record<string, MessageKey> = {
  'visit.recorded': 'event.visitRecorded',
  'target.status': 'console.event.status',
  'escalation.created': 'console.event.escalationCreated',
  'escalation.acknowledged': 'console.event.escalationAcknowledged',
  'escalation.resolved': 'console.event.escalationResolved',
  'escalation.assigned': 'console.event.escalationAssigned',
  'operation.started': 'event.operationStarted',
  'operation.closed': 'event.operationClosed',
};

export const BAND_KEYS: MessageKey[] = ['console.rate.band0', 'console.rate.band1', 'console.rate.band2', 'console.rate.band3'];
export const CONN_KEYS: Record<ConnState['status'], MessageKey> = {
  connecting: 'console.conn.connecting',
  live: 'console.conn.live',
  reconnecting: 'console.conn.reconnecting',
};

export const TAB_KEYS: Record<Tab, MessageKey> = {
  progress: 'console.tab.progress',
  escalations: 'console.tab.escalations',
  timeline: 'console.tab.timeline',
  shelters: 'common.shelters',
};

