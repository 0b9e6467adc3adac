import { t } from '../i18n';
import { h } from '../ui/dom';

export interface ConfirmOptions {
  title: string;
  body: string[];
  confirmLabel: string;
  /** A checkbox the user must tick first ("I understand that …"). */
  acknowledge?: string;
  /** A required text (e.g. the reason for lifting), returned as `value`. */
  input?: { label: string; minLength: number };
  danger?: boolean;
}

/**
 * A modal confirmation (native <dialog>: focus trap, Esc to cancel, announced as a dialog).
 * Resolves to the typed value (or '') when confirmed, null when cancelled.
 */
export function confirmDialog(opts: ConfirmOptions): Promise<string | null> {
  return new Promise((resolve) => {
    const dialog = h('dialog', { class: 'confirm', 'aria-labelledby': 'confirm-title', 'aria-describedby': 'confirm-body', 'data-dialog': 'confirm' });
    const ack = opts.acknowledge ? h('input', { type: 'checkbox', id: 'confirm-ack' }) : null;
    const input = opts.input ? h('textarea', { id: 'confirm-input', rows: 3, required: true }) : null;
    const ok = h('button', { type: 'button', class: 'primary', 'data-action': 'confirm' }, opts.confirmLabel);
    const cancel = h('button', { type: 'button', class: 'secondary', 'data-action': 'cancel' }, t('common.cancel'));
    const problem = h('p', { class: 'error', role: 'alert', hidden: true });
    let done = false;
    const finish = (value: string | null) => {
      if (done) return;
      done = true;
      dialog.close();
      dialog.remove();
      resolve(value);
    };
    ok.addEventListener('click', () => {
      if (ack && !ack.checked) {
        problem.textContent = t('staff.dialog.tickFirst');
        problem.hidden = false;
        ack.focus();
        return;
      }
      const value = input?.value.trim() ?? '';
      if (input && value.length < (opts.input?.minLength ?? 1)) {
        problem.textContent = t('staff.dialog.needText', { min: opts.input?.minLength ?? 1 });
        problem.hidden = false;
        input.setAttribute('aria-invalid', 'true');
        input.focus();
        return;
      }
      finish(value);
    });
    cancel.addEventListener('click', () => finish(null));
    dialog.addEventListener('cancel', (ev) => {
      ev.preventDefault();
      finish(null);
    });
    const parts: (Node | null)[] = [
      h('h2', { id: 'confirm-title' }, opts.title),
      h('div', { id: 'confirm-body' }, ...opts.body.map((p) => h('p', {}, p))),
      input && opts.input ? h('div', { class: 'field' }, h('label', { for: 'confirm-input' }, opts.input.label), input) : null,
      ack && opts.acknowledge ? h('div', { class: 'choice' }, ack, h('label', { for: 'confirm-ack' }, opts.acknowledge)) : null,
      problem,
      h('div', { class: 'actions' }, ok, cancel),
    ];
    dialog.append(...parts.filter((p): p is Node => p !== null));
    document.body.append(dialog);
    dialog.showModal();
    (input ?? ack ?? cancel).focus();
  });
}
