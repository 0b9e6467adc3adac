import { accountsEn } from './accounts.en';
import { consoleEn } from './console.en';
import { fieldEn } from './field.en';
import type { ja } from './ja';
import { mapEn } from './map.en';
import { staffEn } from './staff.en';
import { vcEn } from './vc.en';

// Typed by the keys of ja.ts (MessageKey, taken from ja.ts: index.ts imports this file): adding
// a key to ja.ts without adding it here is a compile error.
export const en: Record<keyof typeof ja, string> = {
  ...fieldEn,
  ...consoleEn,
  ...staffEn,
  ...mapEn,
  ...accountsEn,
  ...vcEn,

  'app.name': 'Tonari 隣',

  'lang.switchTo': '日本語',

  'login.signIn': 'Sign in',
  'login.lead': 'Enter the login ID and password you received from the social welfare council.',
  'login.id': 'Login ID',
  'login.password': 'Password',
  'login.submitting': 'Signing in…',
  'login.missingId': 'Enter your login ID.',
  'login.missingPassword': 'Enter your password.',
  'login.offline': 'You are not connected to the internet. Signing in needs a connection.',

  'wait.seconds': 'Please wait about {seconds} seconds and try again.',
  'wait.minutes': 'Please wait about {minutes} minutes and try again.',

  'home.title': 'Home',
  'home.loading': 'Loading…',
  'home.tenant': 'Organisation',
  'home.municipality': 'Municipality code',
  'home.offline': 'Offline',
  'home.offlineHint': 'The latest information will appear when the connection returns. What you see was last checked earlier.',
  'home.retry': 'Reload',
  'home.signOut': 'Sign out',

  'outbox.waiting': '{count} unsent',
  'outbox.needsCheck': '{count} need checking',
  'outbox.needsSignIn': 'Please sign in again (your records are saved on this device)',
  'outbox.signIn': 'Sign in and send',
  'outbox.title': 'Records waiting to be sent',
  'outbox.sendNow': 'Send now',
  'outbox.exportJson': 'Export (JSON)',
  'outbox.exportCsv': 'Export (CSV)',
  'outbox.conflictList': 'Records that conflict with the server (check)',
  'outbox.deadList': 'Records the server did not accept',
  'outbox.persisted': 'This device keeps your records even when space runs low.',
  'outbox.notPersisted': 'The browser may clear unsent records when space runs low. Send them often.',

  'ops.title': 'Running operations',
  'ops.none': 'No operation is running.',
  'ops.cached': 'Showing the list from the last connection.',
  'ops.noneYet': 'No operations yet.',
  'ops.status.active': 'Active',
  'ops.status.closed': 'Closed',

  'op.loading': 'Loading your households…',
  'op.drillBanner': '【訓練】 This is a drill, not a real disaster.',
  'op.households': 'Your households (walking order)',
  'op.noHouseholds': 'You have no households in this operation.',
  'op.offlineCached': 'Offline. Showing your households from the last connection. Records are saved on this device and sent when the connection returns.',
  'op.notCached': 'Offline, and this operation\'s households are not on this device yet. Open it once while connected.',
  'op.back': 'Back to home',
  'op.note': 'Note (optional)',
  'op.recordHint': 'Tapping a result records it at once.',
  'op.recorded': 'Recorded {outcome} ({time})',
  'op.status.unreached': 'Not reached',
  'op.call110': 'Call 110 (police)',
  'op.call119': 'Call 119 (fire / ambulance)',
  'op.emergencyHint': 'If a life is at risk, call now.',

  'role.admin': 'Administrator',
  'role.staff': 'Council staff',
  'role.coordinator': 'Coordinator',
  'role.commissioner': 'Welfare commissioner (minsei-iin)',
  'role.watcher': 'Neighbourhood watcher',
  'role.vc_volunteer': 'Disaster volunteer centre volunteer',
  'role.vc_desk': 'Volunteer centre desk (lent staff)',

  // Words several areas share: one key per Japanese text (i18n.test.ts).
  'common.all': 'All',
  'common.cancel': 'Cancel',
  'common.deviceStorage': 'Storage on this device: {used} of {quota} used',
  'common.district': 'District',
  'common.household': 'Household',
  'common.householdDetail': 'Household',
  'common.name': 'Name',
  'common.noRecords': 'No records yet.',
  'common.role': 'Role',
  'common.shelter': 'Shelter',
  'common.shelters': 'Shelters',
  'common.status': 'Status',
  'event.operationClosed': 'Operation closed',
  'event.operationStarted': 'Operation started',
  'event.visitRecorded': 'Visit recorded',

  'error.network': 'Could not reach the server. Check your connection and try again.',
  'error.generic': 'Something went wrong. Please try again in a moment.',
};
