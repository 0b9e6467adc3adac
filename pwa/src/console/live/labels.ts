// Message keys of the live page: what each status, event kind, band, connection state and tab is called.
import { OUTCOME_LABELS } from '../../field/model';
import type { MessageKey } from '../../i18n';
import type { Tab } from './state';
import type { ConnState } from './stream';

export const OUTCOME_KEYS: Record<string, MessageKey> = {
  ...OUTCOME_LABELS,
  unreached: 'op.status.unreached',
  late: 'map.status.late',
  overdue: 'console.status.overdue',
};

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

// Support reasons and hazard kinds the console filters by (and names in the detail panel).
export const SUPPORT_REASONS = ['care_level_3_5', 'physical_disability_1_2', 'intellectual_a', 'mental_1', 'intractable_disease', 'elderly_alone', 'elderly_only_household', 'other'] as const;
export const SUPPORT_KEYS: Record<(typeof SUPPORT_REASONS)[number], MessageKey> = {
  care_level_3_5: 'console.reason.care_level_3_5',
  physical_disability_1_2: 'console.reason.physical_disability_1_2',
  intellectual_a: 'console.reason.intellectual_a',
  mental_1: 'console.reason.mental_1',
  intractable_disease: 'console.reason.intractable_disease',
  elderly_alone: 'console.reason.elderly_alone',
  elderly_only_household: 'console.reason.elderly_only_household',
  other: 'console.reason.other',
};
export const HAZARD_KEYS: Record<string, MessageKey> = {
  flood: 'console.hazard.flood',
  landslide: 'console.hazard.landslide',
  other: 'console.hazard.other',
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

