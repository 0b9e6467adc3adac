import { getLang, onLangChange, setLang, t } from '../i18n';
import { h } from './dom';

/**
 * The app bar. Its nodes are updated in place on a language switch (not rebuilt)
 * so keyboard and screen-reader focus stays on the toggle the user just pressed.
 */
export function mountHeader(container: HTMLElement): void {
  const title = h('span', { class: 'brand' });
  const toggle = h('button', { type: 'button', class: 'lang-toggle' });

  function update(): void {
    title.textContent = t('app.name');
    toggle.textContent = t('lang.switchTo');
    // The button names the *other* language in that language ("English" / "日本語"),
    // the usual pattern for language pickers; mark it so it is pronounced right.
    toggle.lang = getLang() === 'ja' ? 'en' : 'ja';
  }

  toggle.addEventListener('click', () => setLang(getLang() === 'ja' ? 'en' : 'ja'));
  onLangChange(update);
  update();
  container.replaceChildren(h('div', { class: 'bar' }, title, toggle));
}
