// The person form fields, shared by the new-household form and the household page.
import { t } from '../../i18n';
import { h } from '../../ui/dom';
import { checkboxes, selectField, textField } from '../forms';
import type { PersonFormValues } from '../registry-model';
import { vocabOptions } from '../../vocab';

/** Messages for one nested row: `emergency_contacts[1].phone` → `phone` for prefix `emergency_contacts[1].`. */
export function nestedFields(all: Map<string, string>, prefix: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [field, text] of all) {
    const name = field.replace(/^\$\./, '');
    if (name.startsWith(prefix)) out.set(name.slice(prefix.length), text);
  }
  return out;
}

/** The person fields, shared by "new household" and "add a person"; `errors` keyed by API field. */
export function personFields(prefix: string, p: PersonFormValues, errors: Map<string, string>): HTMLElement {
  return h(
    'fieldset',
    {},
    h('legend', {}, t('staff.reg.person')),
    h(
      'div',
      { class: 'staff-row' },
      textField(`${prefix}-name`, 'common.name', p.name, (v) => (p.name = v), { error: errors.get('name') }),
      textField(`${prefix}-kana`, 'staff.reg.kana', p.kana, (v) => (p.kana = v), { error: errors.get('kana'), hintKey: 'staff.reg.kanaHint' }),
    ),
    h(
      'div',
      { class: 'staff-row' },
      textField(`${prefix}-birth`, 'staff.reg.birthDate', p.birthDate, (v) => (p.birthDate = v), { type: 'date', error: errors.get('birth_date') }),
      selectField(`${prefix}-sex`, 'staff.reg.sex', vocabOptions('sexes'), p.sex, (v) => (p.sex = v), errors.get('sex')),
      textField(`${prefix}-phone`, 'staff.reg.phone', p.phone, (v) => (p.phone = v), { type: 'tel', error: errors.get('phone'), hintKey: 'staff.reg.phoneHint' }),
    ),
    checkboxes(`${prefix}-reasons`, 'staff.reg.reasons', vocabOptions('support_reasons'), p.supportReasons, errors.get('support_reasons')),
    h(
      'div',
      { class: 'staff-row' },
      textField(`${prefix}-care`, 'staff.reg.careLevel', p.careLevel, (v) => (p.careLevel = v), { error: errors.get('care_level') }),
      selectField(`${prefix}-mobility`, 'staff.reg.mobility', [['', '—'], ...vocabOptions('mobility')], p.mobility, (v) => (p.mobility = v), errors.get('mobility')),
    ),
    checkboxes(`${prefix}-devices`, 'staff.reg.devices', vocabOptions('medical_devices'), p.medicalDevices, errors.get('medical_devices')),
    textField(`${prefix}-comm`, 'staff.reg.communication', p.communicationNeeds, (v) => (p.communicationNeeds = v), { error: errors.get('communication_needs') }),
  );
}
