/** Runs the Worker under `wrangler dev` for the dev server, the benchmarks and Node-side tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from './postgres';

export interface WorkerProcess {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export interface StartWorkerOptions {
  port: number;
  databaseUrl: string;
  /** Extra `--var NAME:VALUE` settings. */
  vars?: Record<string, string>;
  /** Where wrangler's output goes. Default: this process's stdout/stderr. */
  stdio?: 'inherit' | 'ignore';
  /** Milliseconds to wait for GET /health. Default 120 000. */
  readyTimeoutMs?: number;
  /** Ready when /health answers 200 (default), or when it answers at all (a database down on purpose). */
  readyWhen?: 'healthy' | 'listening';
}

export async function startWorker(options: StartWorkerOptions): Promise<WorkerProcess> {
  const vars = Object.entries(options.vars ?? {}).flatMap(([k, v]) => ['--var', `${k}:${v}`]);
  const child = spawn(
    path.join(projectRoot, 'node_modules', '.bin', 'wrangler'),
    ['dev', '--ip', '127.0.0.1', '--port', String(options.port), '--test-scheduled', '--show-interactive-dev-session=false', ...vars],
    {
      cwd: projectRoot,
      stdio: options.stdio ?? 'inherit',
      detached: true, // its own process group, so stop() ends workerd too
      env: {
        ...process.env,
        CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE: options.databaseUrl,
        WRANGLER_SEND_METRICS: 'false',
        // Keeps wrangler alive when the database goes away (see the file's comment).
        NODE_OPTIONS: [process.env.NODE_OPTIONS, `--require ${path.join(projectRoot, 'shared', 'dev', 'wrangler-hyperdrive-guard.cjs')}`]
          .filter(Boolean)
          .join(' '),
      },
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
      await exited;
    }
  };
  const url = `http://127.0.0.1:${options.port}`;
  await waitUntilReady({
    url,
    child,
    what: 'wrangler dev',
    timeoutMs: options.readyTimeoutMs ?? 120_000,
    readyWhen: options.readyWhen,
    stop,
  });
  return { url, child, stop };
}

/**
 * Polls `url`/health until it answers 200 (or answers at all, with readyWhen 'listening'); throws,
 * after stopping the process, when it exits first or the time runs out.
 */
export async function waitUntilReady(options: {
  url: string;
  child: ChildProcess;
  what: string;
  timeoutMs: number;
  readyWhen?: 'healthy' | 'listening';
  stop(): Promise<void>;
}): Promise<void> {
  const { url, child, what } = options;
  const deadline = Date.now() + options.timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode}`);
    try {
      const health = await fetch(`${url}/health`);
      if (health.ok || options.readyWhen === 'listening') return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await options.stop();
  throw new Error(`${what} did not become healthy at ${url}/health`);
}
