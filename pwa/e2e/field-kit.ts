// Helpers for the field e2e tests of issue #5 (map, screens, sync resilience): a server process
// of the test's own (to kill and restart it), a database check, a misbehaving proxy, and the
// drill set-up. The generic helpers (sign-in, axe, contexts) live in support.ts.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { answerPin, apiSession, credentialFor, WAIT_LIMIT_MS, type ApiSession, type E2EEnv } from './support';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ServerEnv {
  databaseUrl: string;
  python: string;
  pwaDist: string;
  varDir: string;
}

/**
 * E2E_DATABASE_URL, E2E_PYTHON, E2E_PWA_DIST, E2E_VAR_DIR: what a test needs to start its own
 * server on the same database (scripts/test.sh and e2e-dev.sh export them). Missing → the run
 * fails (never skips).
 */
export function readServerEnv(): ServerEnv {
  const databaseUrl = process.env.E2E_DATABASE_URL;
  const python = process.env.E2E_PYTHON ?? `${ROOT}.venv/bin/python`;
  const pwaDist = process.env.E2E_PWA_DIST ?? `${ROOT}pwa/dist`;
  const varDir = process.env.E2E_VAR_DIR;
  const missing = [!databaseUrl && 'E2E_DATABASE_URL', !varDir && 'E2E_VAR_DIR'].filter(Boolean);
  if (missing.length) throw new Error(`e2e: ${missing.join(' and ')} not set (scripts/test.sh e2e sets them)`);
  if (!existsSync(python)) throw new Error(`e2e: E2E_PYTHON ${python} does not exist`);
  if (!existsSync(`${pwaDist}/index.html`)) throw new Error(`e2e: E2E_PWA_DIST ${pwaDist} has no index.html (build first)`);
  return { databaseUrl: databaseUrl!, python, pwaDist, varDir: varDir! };
}

/** A second port for the test's own server or proxy: E2E_AUX_PORT, else the base port + 10. */
export function auxPort(baseUrl: string): number {
  if (process.env.E2E_AUX_PORT) return Number(process.env.E2E_AUX_PORT);
  return Number(new URL(baseUrl).port) + 10;
}

/** `python -m server.cli serve` on `port`, in its own process group (so a kill takes it all). */
export class ServerProcess {
  private child: ChildProcess | null = null;
  log = '';

  constructor(
    private readonly env: ServerEnv,
    readonly port: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(timeoutMs = 90_000): Promise<void> {
    if (this.child) throw new Error('server already running');
    const child = spawn(this.env.python, ['-m', 'server.cli', 'serve', '--host', '127.0.0.1', '--port', String(this.port)], {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        DATABASE_URL: this.env.databaseUrl,
        TONARI_VAR_DIR: this.env.varDir,
        TONARI_PWA_DIST: this.env.pwaDist,
        TONARI_PUBLIC_URL: this.url,
      },
    });
    this.child = child;
    const keep = (b: Buffer) => {
      this.log = (this.log + b.toString()).slice(-20_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`e2e: own server exited (${child.exitCode}):\n${this.log.slice(-3000)}`);
      try {
        const res = await fetch(`${this.url}/health/ready`);
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 300));
    }
    throw new Error(`e2e: own server not ready on ${this.url}:\n${this.log.slice(-3000)}`);
  }

  /** SIGKILL the whole process group (no graceful shutdown: a crash mid-request). */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.pid === undefined) return;
    this.child = null;
    const exited = new Promise<void>((r) => (child.exitCode !== null ? r() : child.once('exit', () => r())));
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await exited;
    // The port is free once nobody listens; wait for it (up to 10 s).
    for (let i = 0; i < 50; i++) {
      try {
        await fetch(`${this.url}/health/ready`);
        await new Promise((r) => setTimeout(r, 200));
      } catch {
        return;
      }
    }
  }
}

/** One SQL query against E2E_DATABASE_URL as the app role, within the tenant (RLS). Rows as JSON. */
export function dbRows(env: ServerEnv, sql: string, params: string[] = []): Array<Record<string, unknown>> {
  const script = `
import asyncio, json, sys
import asyncpg
async def main():
    url = sys.argv[1].replace("postgresql+asyncpg://", "postgresql://", 1)
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            tenant = await conn.fetchval("SELECT id FROM tenant ORDER BY created_at LIMIT 1")
            await conn.execute("SELECT set_config('tonari.tenant_id', $1, true)", str(tenant))
            rows = await conn.fetch(sys.argv[2], *sys.argv[3:])
        print(json.dumps([dict(r) for r in rows], default=str))
    finally:
        await conn.close()
asyncio.run(main())
`;
  const res = spawnSync(env.python, ['-c', script, env.databaseUrl, sql, ...params], { encoding: 'utf8', cwd: ROOT });
  if (res.status !== 0) throw new Error(`e2e: database query failed: ${res.stderr}`);
  return JSON.parse(res.stdout) as Array<Record<string, unknown>>;
}

/** As staff, through the API: a drill safety check on every district, started. */
export async function startDrill(env: E2EEnv, name: string, baseUrl = env.baseUrl): Promise<{ staff: ApiSession; op: { id: string } }> {
  const staff = await apiSession(baseUrl, credentialFor(env, 'staff'));
  const districts = await staff.get<Array<{ id: string }>>('/api/districts');
  expect(districts.length).toBeGreaterThan(0);
  const op = await staff.post<{ id: string; mode: string; status: string }>('/api/operations', {
    kind: 'safety_check',
    mode: 'drill',
    name,
    district_ids: districts.map((d) => d.id),
    start: true,
  });
  expect(op.status).toBe('active');
  return { staff, op };
}

/**
 * The app asks for the PIN when the in-memory key is gone (a reload, a deep link, a first
 * sign-in on this device). Waits for whichever comes: the PIN screen, or `ready` — what the page
 * shows once it is open — and answers the PIN screen with support.ts's `answerPin`. Returns
 * whether the app asked. (Never "wait a moment and see": on a loaded machine the PIN screen can
 * take longer than any such moment.)
 */
export async function unlockIfAsked(page: Page, ready: string): Promise<boolean> {
  const pin = '[data-pin-mode="setup"], [data-pin-mode="unlock"]';
  await page.locator(`${pin}, ${ready}`).first().waitFor();
  if ((await page.locator(pin).count()) === 0) return false;
  return answerPin(page);
}

/** Waits until the app bar says 未送信 n件 (the outbox's own count). */
export async function waitForCount(page: Page, n: number, timeout = WAIT_LIMIT_MS): Promise<void> {
  await page.waitForFunction((want) => document.querySelector('[data-outbox-count]')?.textContent === want, `未送信 ${n}件`, {
    timeout,
    polling: 100,
  });
}

// Not 避難済: it opens a shelter picker first (a different flow, tested with the operation page).
const OUTCOMES = ['safe', 'injured', 'unknown'] as const;

/** Records `total` visits through the UI, spread over the households; returns their count per household. */
export async function recordVisits(page: Page, total: number, startCount = 0): Promise<Map<string, number>> {
  const toggles = page.locator('[data-household]');
  await toggles.first().waitFor();
  const ids = await toggles.evaluateAll((els) => els.map((el) => el.getAttribute('data-household')!));
  expect(ids.length).toBeGreaterThan(0);
  const perHousehold = new Map<string, number>();
  let recorded = 0;
  for (let j = 0; j < ids.length; j++) {
    const hh = ids[j]!;
    const taps = Math.floor(total / ids.length) + (j < total % ids.length ? 1 : 0);
    if (taps === 0) continue;
    await page.locator(`[data-household="${hh}"]`).click();
    const panel = page.locator(`[data-household-panel="${hh}"]`);
    await panel.waitFor();
    for (let k = 0; k < taps; k++) {
      await panel.locator(`[data-outcome="${OUTCOMES[(j + k) % OUTCOMES.length]}"]`).click();
      recorded++;
      await waitForCount(page, startCount + recorded);
    }
    perHousehold.set(hh, taps);
  }
  expect(recorded).toBe(total);
  return perHousehold;
}

/** Client ids of the visits still queued on the device (read from IndexedDB). */
export async function queuedClientIds(page: Page): Promise<string[]> {
  return page.evaluate(
    () =>
      new Promise<string[]>((resolve, reject) => {
        const req = indexedDB.open('tonari');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const db = req.result;
          const tx = db.transaction('outbox', 'readonly');
          const all = tx.objectStore('outbox').getAllKeys();
          all.onsuccess = () => {
            resolve((all.result as IDBValidKey[]).map(String));
            db.close();
          };
          all.onerror = () => reject(all.error);
        };
      }),
  );
}

/**
 * A local HTTP proxy in the test process. `failing(req)` decides per request whether to answer
 * 500; `forwardThenFail` first lets the upstream see (and commit) the request, then throws the
 * answer away and says 500 — the worst case for "exactly once".
 */
export class FlakyProxy {
  private server: http.Server | null = null;
  pushes = { failed: 0, passed: 0 };

  constructor(
    private readonly upstream: string,
    readonly port: number,
    private readonly failing: (req: http.IncomingMessage) => 'pass' | 'fail' | 'forward-then-fail',
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const up = new URL(this.upstream);
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const decision = this.failing(req);
        const isPush = req.url?.startsWith('/api/sync/push') ?? false;
        const fail = () => {
          if (isPush) this.pushes.failed++;
          res.writeHead(500, { 'Content-Type': 'application/problem+json' });
          res.end(JSON.stringify({ type: 'about:blank', title: 'proxy says no', status: 500 }));
        };
        if (decision === 'fail') return fail();
        const headers = { ...req.headers, host: up.host };
        const out = http.request(
          { host: up.hostname, port: up.port, path: req.url, method: req.method, headers },
          (upRes) => {
            if (decision === 'forward-then-fail') {
              upRes.resume();
              upRes.on('end', fail);
              return;
            }
            if (isPush) this.pushes.passed++;
            // Cookies name the proxy's origin implicitly (host-only): pass Set-Cookie through.
            res.writeHead(upRes.statusCode ?? 502, upRes.headers);
            upRes.pipe(res);
          },
        );
        out.on('error', () => {
          res.writeHead(502);
          res.end();
        });
        out.end(Buffer.concat(chunks));
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.port, '127.0.0.1', () => resolve());
    });
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
}
