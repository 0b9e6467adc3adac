import { t, type MessageKey } from '../i18n';
import { h } from '../ui/dom';

export interface FieldOpts {
  type?: string;
  error?: string;
  hintKey?: MessageKey;
  required?: boolean;
  inputmode?: string;
  autocomplete?: string;
}

/** A labelled input whose server message (problem `errors[]`) sits under it, linked for screen readers. */
export function textField(id: string, labelKey: MessageKey, value: string, onInput: (v: string) => void, opts: FieldOpts = {}): HTMLElement {
  const described = [opts.hintKey ? `${id}-hint` : '', opts.error ? `${id}-error` : ''].filter(Boolean).join(' ');
  const input = opts.type === 'textarea'
    ? h('textarea', { id, rows: 2, required: opts.required, 'aria-invalid': opts.error ? 'true' : null, 'aria-describedby': described || null })
    : h('input', { id, type: opts.type ?? 'text', value, required: opts.required, inputmode: opts.inputmode, autocomplete: opts.autocomplete ?? 'off', 'aria-invalid': opts.error ? 'true' : null, 'aria-describedby': described || null });
  if (input instanceof HTMLTextAreaElement) input.value = value;
  input.addEventListener('input', () => onInput(input.value));
  return h(
    'div',
    { class: 'field', 'data-field': id },
    h('label', { for: id }, t(labelKey)),
    input,
    opts.hintKey ? h('p', { class: 'hint', id: `${id}-hint` }, t(opts.hintKey)) : null,
    opts.error ? h('p', { class: 'error field-error', id: `${id}-error` }, opts.error) : null,
  );
}

export function selectField(id: string, labelKey: MessageKey, options: [string, string][], value: string, onChange: (v: string) => void, error?: string): HTMLElement {
  const sel = h('select', { id, 'aria-invalid': error ? 'true' : null, 'aria-describedby': error ? `${id}-error` : null }, ...options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
  sel.addEventListener('change', () => onChange(sel.value));
  return h('div', { class: 'field', 'data-field': id }, h('label', { for: id }, t(labelKey)), sel, error ? h('p', { class: 'error field-error', id: `${id}-error` }, error) : null);
}

/** Checkboxes bound to an array (mutated in place so a re-render keeps the choice). */
export function checkboxes(name: string, legendKey: MessageKey, items: [string, string][], selected: string[], error?: string): HTMLElement {
  return h(
    'fieldset',
    { class: 'check-list', 'aria-describedby': error ? `${name}-error` : null },
    h('legend', {}, t(legendKey)),
    ...items.map(([value, label]) => {
      const id = `${name}-${value}`;
      const box = h('input', { type: 'checkbox', id, value, checked: selected.includes(value) });
      box.addEventListener('change', () => {
        const i = selected.indexOf(value);
        if (box.checked && i < 0) selected.push(value);
        if (!box.checked && i >= 0) selected.splice(i, 1);
      });
      return h('div', { class: 'choice' }, box, h('label', { for: id }, label));
    }),
    error ? h('p', { class: 'error field-error', id: `${name}-error` }, error) : null,
  );
}
