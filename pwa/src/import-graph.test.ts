// @vitest-environment node
// Imports point one way: no cycle between modules, and none between the top-level folders of
// src/ (api, auth, device-db, outbox, vault, field, map, console, staff, …), so a folder never
// needs a folder that needs it back (as outbox ↔ vault and field ↔ pages once did).
// dependency-cruiser reads the imports — static, dynamic and type-only; the folder graph is
// folded here from its module graph. Tests are left out: nothing imports them.
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const PWA_ROOT = fileURLToPath(new URL('..', import.meta.url));

type Graph = Map<string, Set<string>>;

async function cruiseSrc(): Promise<ICruiseResult> {
  const { output } = await cruise(['src'], {
    baseDir: PWA_ROOT,
    validate: true,
    ruleSet: { forbidden: [{ name: 'no-circular', severity: 'error', from: {}, to: { circular: true } }] },
    tsPreCompilationDeps: true,
    exclude: { path: '\\.test\\.ts$' },
    doNotFollow: { path: 'node_modules' },
  });
  if (typeof output === 'string') throw new Error('dependency-cruiser: expected a JSON result');
  return output;
}

/** `src/field/pages/home.ts` → `field`; a file directly in src/ is its own node (`router.ts`). */
function folderOf(source: string): string | null {
  const m = /^src\/([^/]+)/.exec(source);
  return m ? m[1]! : null;
}

/** The module graph folded onto folders; `why` keeps one module-level edge per folder edge. */
function foldToFolders(edges: Array<[string, string]>): { graph: Graph; why: Map<string, string> } {
  const graph: Graph = new Map();
  const why = new Map<string, string>();
  for (const [from, to] of edges) {
    const a = folderOf(from);
    const b = folderOf(to);
    if (!a || !b) continue;
    if (!graph.has(a)) graph.set(a, new Set());
    if (!graph.has(b)) graph.set(b, new Set());
    if (a === b) continue;
    graph.get(a)!.add(b);
    if (!why.has(`${a}→${b}`)) why.set(`${a}→${b}`, `${from} → ${to}`);
  }
  return { graph, why };
}

/** The shortest way round a cycle (a strongly connected component), as folders: [a, b, …, a]. */
function shortestLoop(graph: Graph, component: string[]): string[] {
  const inside = new Set(component);
  let best: string[] = [];
  for (const start of component) {
    const from = new Map<string, string>();
    const queue = [start];
    while (queue.length) {
      const v = queue.shift()!;
      const nexts = [...(graph.get(v) ?? [])].filter((w) => inside.has(w)).sort();
      if (nexts.includes(start)) {
        const path = [start];
        for (let w = v; w !== start; w = from.get(w)!) path.splice(1, 0, w);
        path.push(start);
        if (!best.length || path.length < best.length) best = path;
        break;
      }
      for (const w of nexts) if (!from.has(w) && w !== start) (from.set(w, v), queue.push(w));
    }
  }
  return best;
}

/** Strongly connected components with more than one node (Tarjan): each one is a cycle. */
function cycles(graph: Graph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

describe('import graph of src/', () => {
  it('finds a cycle when there is one (the check can fail)', () => {
    const { graph } = foldToFolders([
      ['src/outbox/runtime.ts', 'src/vault/vault.ts'],
      ['src/vault/vault.ts', 'src/outbox/db.ts'],
      ['src/field/routes.ts', 'src/field/pages/home.ts'],
      ['src/field/pages/home.ts', 'src/api/client.ts'],
    ]);
    expect(cycles(graph)).toEqual([['outbox', 'vault']]);
    expect(shortestLoop(graph, ['outbox', 'vault'])).toEqual(['outbox', 'vault', 'outbox']);
    expect(folderOf('src/router.ts')).toBe('router.ts');
    expect(folderOf('node_modules/dexie/dist/dexie.js')).toBeNull();
  });

  it('has no cycle between modules, nor between top-level folders', async () => {
    const result = await cruiseSrc();
    const sources = result.modules.filter((m) => m.source.startsWith('src/')).map((m) => m.source);
    expect(sources).toContain('src/main.ts');
    expect(sources).toContain('src/console/live/page.ts'); // dynamic imports are followed

    const moduleCycles = result.summary.violations.map((v) => `${v.from} → ${v.to}${v.cycle ? ` (${v.cycle.map((c) => c.name).join(' → ')})` : ''}`);
    expect(moduleCycles, 'module-level import cycles').toEqual([]);

    const edges = result.modules.flatMap((m) => m.dependencies.filter((d) => !d.coreModule && !d.couldNotResolve).map((d): [string, string] => [m.source, d.resolved]));
    const { graph, why } = foldToFolders(edges);
    const folderCycles = cycles(graph).map((c) => {
      const loop = shortestLoop(graph, c);
      const imports = loop.slice(1).map((b, i) => why.get(`${loop[i]}→${b}`)!);
      return `${loop.join(' → ')} (${imports.join('; ')})${c.length > loop.length - 1 ? `, within ${c.join(', ')}` : ''}`;
    });
    expect(folderCycles, 'folder-level import cycles').toEqual([]);
  }, 60_000);
});
