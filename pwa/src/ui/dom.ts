// A tiny element builder: enough to keep pages declarative without a framework.
// Text always goes through textContent, never innerHTML, so server strings
// (display names, problem messages) can't inject markup.

type Attrs = Record<string, string | number | boolean | null | undefined>;
type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    // Through the CSSOM, not a style attribute: the Content-Security-Policy (style-src 'self',
    // docs/decisions/0014) blocks style attributes but not the CSSOM.
    if (name === 'style') el.style.cssText = String(value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child);
  }
  return el;
}

/**
 * A link that routes inside the app (no reload), still a real link: a modified click (new tab,
 * new window) is left to the browser.
 */
export function appLink(
  ctx: { navigate: (path: string) => void },
  path: string,
  text: string,
  attrs: Attrs = {},
): HTMLAnchorElement {
  const a = h('a', { href: path, ...attrs }, text);
  a.addEventListener('click', (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0) return;
    ev.preventDefault();
    ctx.navigate(path);
  });
  return a;
}
