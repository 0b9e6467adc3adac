import { loadSession } from '../auth/session';
import { openLiveStream, type LiveStream } from './live/stream';
import { t } from '../i18n';
import type { Page, PageFactory } from '../router';
import { h } from '../ui/dom';
import { problemText } from '../ui/problem-text';
import { createNeedsMap, type NeedsMap } from '../map/vc-needs';
import { needsLegend, needSummary } from '../ui/vc-needs-legend';
import { consoleAccess, consoleNav } from './common';
import { runBackLink } from '../staff/drills/centre-links';

/** `GET /api/vc/centres/`: what this page needs of a centre (the desk's model has the whole record). */
interface Centre {
  operation_id: string;
  name: string;
  lon: number;
  lat: number;
  /** "【訓練】" for a drill centre. */
  label: string;
}

/** The roles that run a volunteer centre (decision 0025): the needs tiles answer only them. */
const VC_ROLES: ReadonlySet<string> = new Set(['admin', 'staff', 'coordinator', 'vc_desk']);

/**
 * `/console/vc/:id`: the needs map of one volunteer centre, coloured by state and moving live over
 * the event stream (`vc.need`), as the desk's board does. A drill centre says 【訓練】.
 */
export const consoleVcPage: PageFactory = (root, ctx, params = {}) => {
  const op = params.id ?? '';
  let centre: Centre | null = null;
  let error: unknown = null;
  let forbidden = false;
  let disposed = false;
  let map: NeedsMap | null = null;
  let live: LiveStream | null = null;
  let liveOk = false;
  let runLink: HTMLElement | null = null; // a drill centre: back to the run that opened it
  let picked: Record<string, unknown> | null = null;
  const mapEl = h('div', { class: 'vc-map', 'data-needs-map': '', role: 'region', 'aria-label': t('vc.map.label') });

  async function load(): Promise<void> {
    try {
      const access = await consoleAccess(ctx);
      if (disposed || access === 'redirected') return;
      if (access === 'signed-out') {
        ctx.navigate('/login', { replace: true });
        return;
      }
      const session = await loadSession({ api: ctx.api });
      if (access === 'forbidden' || (session.kind === 'signed-in' && !VC_ROLES.has(session.user.role))) {
        forbidden = true;
      } else {
        const all = await ctx.api.get<Centre[]>('/api/vc/centres/');
        centre = all.find((c) => c.operation_id === op) ?? null;
        if (centre?.label && session.kind === 'signed-in') runLink = await runBackLink(ctx, op, session.user.role);
      }
    } catch (err) {
      error = err;
    }
    if (disposed) return;
    render();
    if (!centre) return;
    map = await createNeedsMap(mapEl, ctx.api, op, centre, (props) => {
      picked = props;
      render();
    });
    if (disposed) {
      map.destroy();
      return;
    }
    live = openLiveStream({
      operationId: op,
      lastEventId: null,
      kinds: ['vc.need'],
      onEvent: (ev) => map?.onNeedEvent(ev),
      onState: (s) => {
        liveOk = s.status === 'live';
        render();
      },
    });
  }

  function render(): void {
    const body: (Node | null)[] = [];
    if (forbidden) body.push(h('p', { role: 'alert', class: 'error' }, t('console.forbidden')));
    else if (error) body.push(h('p', { role: 'alert', class: 'error' }, problemText(error)));
    else if (!centre) body.push(h('p', { role: 'status' }, t('home.loading')));
    else {
      body.push(
        centre.label ? h('p', { class: 'drill-banner', role: 'note', 'data-drill': 'true' }, t('vc.drill')) : null,
        runLink,
        h('p', { role: 'status', 'data-live': liveOk ? 'on' : 'off' }, t(liveOk ? 'vc.live.on' : 'vc.live.connecting')),
        mapEl,
        picked ? needSummary(picked) : null,
        needsLegend(),
      );
    }
    root.replaceChildren(h('div', { class: 'console' },
      h('div', { class: 'console-head' },
        h('h1', { tabindex: '-1', 'data-centre-name': '' }, centre ? `${centre.label}${centre.name} ${t('vc.step.map')}` : t('vc.step.map')),
        consoleNav(ctx)),
      ...body));
    map?.resize();
  }

  render();
  void load();
  return {
    render,
    dispose() {
      disposed = true;
      live?.close();
      map?.destroy();
    },
  } satisfies Page;
};
