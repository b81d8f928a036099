/**
 * The benchmarks' hosts: the Worker under `wrangler dev`, or the bundled Node or Deno host (built
 * first), on a free port against a database, quiet.
 */
import { bundleHost } from '../../shared/cli/bundle';
import { startHost, type PooledHostName } from '../../shared/dev/hosts';
import { freePort } from '../../shared/dev/postgres';
import { startWorker } from '../../shared/dev/wrangler';

export type BenchHost = 'workers' | PooledHostName;

/** `--host workers|node|deno|all` (or a comma list) as the hosts it names; exits 2 on anything else. */
export function hostsOf(option: string): BenchHost[] {
  const hosts = option === 'all' ? (['workers', 'node', 'deno'] as BenchHost[]) : (option.split(',') as BenchHost[]);
  if (!hosts.every((h) => ['workers', 'node', 'deno'].includes(h))) {
    console.error(`--host must be workers, node, deno, a comma list of them or all; got ${option}`);
    process.exit(2);
  }
  return hosts;
}

export async function startBenchHost(name: BenchHost, databaseUrl: string) {
  const port = await freePort();
  if (name !== 'workers') await bundleHost(name);
  return name === 'workers'
    ? await startWorker({ port, databaseUrl, stdio: 'ignore' })
    : await startHost(name, { port, databaseUrl, stdio: 'ignore' });
}
