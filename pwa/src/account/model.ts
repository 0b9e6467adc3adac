import type { MessageKey } from '../i18n';

/** The server's policy (server/accounts/passwords.py) starts at this length; the rest (guessable
 *  words, the login ID, runs of digits) only the server checks, and its message says so. */
export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 256;

export interface PasswordForm {
  current: string;
  next: string;
  confirm: string;
}

export type PasswordField = keyof PasswordForm;

export interface FormIssue {
  field: PasswordField;
  key: MessageKey;
}

/** What can be said before asking the server; empty when the form may be sent. */
export function passwordFormIssues(form: PasswordForm): FormIssue[] {
  const issues: FormIssue[] = [];
  if (form.current === '') issues.push({ field: 'current', key: 'account.password.missingCurrent' });
  if (form.next.length < MIN_PASSWORD_LENGTH) issues.push({ field: 'next', key: 'account.password.tooShort' });
  else if (form.next.length > MAX_PASSWORD_LENGTH) issues.push({ field: 'next', key: 'account.password.tooLong' });
  else if (form.current !== '' && form.next === form.current) issues.push({ field: 'next', key: 'account.password.same' });
  if (form.confirm !== form.next) issues.push({ field: 'confirm', key: 'account.password.mismatch' });
  return issues;
}

/** The server names the fields `current_password` / `new_password`; the form's are shorter. */
export const SERVER_FIELD: Record<string, PasswordField> = { current_password: 'current', new_password: 'next' };
