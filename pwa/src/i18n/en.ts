import type { MessageKey } from './index';

// Typed as Record<MessageKey, string>: adding a key to ja.ts without adding it here
// is a compile error.
export const en: Record<MessageKey, string> = {
  'app.name': 'Tonari 隣',

  'lang.switchTo': '日本語',

  'login.title': 'Sign in',
  'login.lead': 'Enter the login ID and password you received from the social welfare council.',
  'login.id': 'Login ID',
  'login.password': 'Password',
  'login.submit': 'Sign in',
  'login.submitting': 'Signing in…',
  'login.missingId': 'Enter your login ID.',
  'login.missingPassword': 'Enter your password.',
  'login.offline': 'You are not connected to the internet. Signing in needs a connection.',

  'wait.seconds': 'Please wait about {seconds} seconds and try again.',
  'wait.minutes': 'Please wait about {minutes} minutes and try again.',

  'home.title': 'Home',
  'home.loading': 'Loading…',
  'home.displayName': 'Name',
  'home.login': 'Login ID',
  'home.role': 'Role',
  'home.tenant': 'Organisation',
  'home.municipality': 'Municipality code',
  'home.offline': 'Offline',
  'home.offlineHint': 'The latest information will appear when the connection returns. What you see was last checked earlier.',
  'home.retry': 'Reload',
  'home.signOut': 'Sign out',

  'role.admin': 'Administrator',
  'role.staff': 'Council staff',
  'role.coordinator': 'Coordinator',
  'role.commissioner': 'Welfare commissioner (minsei-iin)',
  'role.watcher': 'Neighbourhood watcher',
  'role.vc_volunteer': 'Disaster volunteer centre volunteer',

  'error.network': 'Could not reach the server. Check your connection and try again.',
  'error.generic': 'Something went wrong. Please try again in a moment.',
};
