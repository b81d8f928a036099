/**
 * Runs the bundled Node or Deno host (dist/node.mjs, dist/deno.mjs; see shared/cli/bundle.ts) as a
 * child process for `npm run start:node|start:deno`, the tests and the benchmarks, as
 * shared/dev/wrangler.ts runs the Worker.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from './postgres';
import { waitUntilReady } from './wrangler';

export type PooledHostName = 'node' | 'deno';

export interface HostProcess {
  url: string;
  child: ChildProcess;
  /** SIGTERM (the graceful stop), then SIGKILL if it is still there after `graceMs` (default 15 s). */
  stop(graceMs?: number): Promise<void>;
}

export interface StartHostOptions {
  port: number;
  databaseUrl: string;
  /** More settings for the host's environment (shared/env.ts). */
  vars?: Record<string, string>;
  stdio?: 'inherit' | 'ignore' | 'pipe';
  /** Milliseconds to wait for GET /health. Default 60 000. */
  readyTimeoutMs?: number;
  readyWhen?: 'healthy' | 'listening';
}

/** The command line of a bundled host: Deno with exactly the permissions and unstable APIs it uses. */
export function hostCommand(host: PooledHostName): [string, string[]] {
  const bundle = path.join(projectRoot, 'dist', `${host}.mjs`);
  if (host === 'node') return [process.execPath, ['--enable-source-maps', bundle]];
  return [
    path.join(projectRoot, 'node_modules', '.bin', 'deno'),
    ['run', '--allow-net', '--allow-env', '--allow-read', '--allow-sys', '--unstable-cron', '--no-prompt', bundle],
  ];
}

export async function startHost(host: PooledHostName, options: StartHostOptions): Promise<HostProcess> {
  const [command, args] = hostCommand(host);
  const child = spawn(command, args, {
    cwd: projectRoot,
    stdio: options.stdio ?? 'inherit',
    env: {
      ...process.env,
      ...options.vars,
      DATABASE_URL: options.databaseUrl,
      PORT: String(options.port),
      HOSTNAME: '127.0.0.1',
      DENO_NO_UPDATE_CHECK: '1',
    },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (graceMs = 15_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  const url = `http://127.0.0.1:${options.port}`;
  await waitUntilReady({
    url,
    child,
    what: `the ${host} host`,
    timeoutMs: options.readyTimeoutMs ?? 60_000,
    readyWhen: options.readyWhen,
    stop,
  });
  return { url, child, stop };
}
