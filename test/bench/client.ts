/**
 * npm run bench:client [-- --records 200000 --calls 200000 --only ours,pino-axiom --timeout 900]
 *
 * The logging library against the pino transports people ship logs with over HTTP, in one run, each
 * configuration in a process of its own (test/bench/client-run.ts) shipping the same records (four
 * fields and a correlation id) to one local sink in another process that speaks every protocol and
 * accepts everything (test/bench/sink-server.ts):
 * - ours with its defaults; with batchSize 1000; without coalescing (maxBatchSize 100);
 * - pino + @axiomhq/pino, pino + @logtail/pino (Better Stack), pino + pino-loki;
 * - pino to /dev/null, the floor.
 * Per record: process CPU (all threads, pino's transport workers included) and bytes on the wire;
 * wall time; and the hot path (ns per logging call).
 */
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { projectRoot } from '../../shared/dev/postgres';

const CONFIGS = ['ours', 'ours-batch-1000', 'ours-no-coalescing', 'pino-axiom', 'pino-logtail', 'pino-loki', 'pino-devnull'];
const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '200000' },
    calls: { type: 'string', default: '200000' },
    only: { type: 'string', default: CONFIGS.join(',') },
    timeout: { type: 'string', default: '900' },
  },
});
setTimeout(() => {
  console.error(`bench:client did not finish within ${values.timeout} s (--timeout)`);
  process.exit(1);
}, Number(values.timeout) * 1000).unref();
const run = promisify(execFile);
const tsx = path.join(projectRoot, 'node_modules', '.bin', 'tsx');

interface Result {
  config: string;
  hotNs: number;
  cpuNsPerRecord: number;
  wallS: number;
  wire?: { requests: number; wireBytes: number; records: number };
}

async function main() {
  const server = spawn(tsx, ['test/bench/sink-server.ts'], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => server.stdout!.once('data', (d) => resolve(JSON.parse(String(d)).port)));
  const results: Result[] = [];
  try {
    for (const config of values.only!.split(',')) {
      if (!CONFIGS.includes(config)) throw new Error(`unknown configuration ${config}; one of ${CONFIGS.join(', ')}`);
      const { stdout } = await run(tsx, ['test/bench/client-run.ts', config, String(port), values.records!, values.calls!], {
        cwd: projectRoot,
        timeout: Number(values.timeout) * 1000,
        maxBuffer: 16 * 1024 * 1024,
      });
      const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as Result;
      if (config !== 'pino-devnull') {
        result.wire = (await (await fetch(`http://127.0.0.1:${port}/stats`)).json()) as Result['wire'];
        if (result.wire!.records !== Number(values.records))
          throw new Error(`${config}: the sink counted ${result.wire!.records} of ${values.records} records`);
      }
      results.push(result);
      console.log(JSON.stringify(result));
    }
  } finally {
    server.kill();
  }
  const devnull = results.find((r) => r.config === 'pino-devnull');
  const peers = results.filter((r) => r.config.startsWith('pino-') && r.config !== 'pino-devnull');
  const bestPeer = peers.reduce<Result | undefined>((b, r) => (!b || r.cpuNsPerRecord < b.cpuNsPerRecord ? r : b), undefined);
  console.log(`\n${values.records} records shipped, ${values.calls} hot-path calls; per record:`);
  console.log('config               CPU ns   wire B  requests  wall s  hot ns/call');
  for (const r of results) {
    const perRecord = r.wire ? (r.wire.wireBytes / r.wire.records).toFixed(0) : '-';
    console.log(
      `${r.config.padEnd(20)} ${r.cpuNsPerRecord.toFixed(0).padStart(6)} ${perRecord.padStart(8)} ${String(r.wire?.requests ?? '-').padStart(9)} ${r.wallS.toFixed(2).padStart(7)} ${r.hotNs.toFixed(0).padStart(12)}`,
    );
  }
  const ours = results.find((r) => r.config === 'ours');
  if (ours && bestPeer)
    console.log(`CPU per record, ours / best peer (${bestPeer.config}): ${(ours.cpuNsPerRecord / bestPeer.cpuNsPerRecord).toFixed(2)}`);
  if (ours && devnull) console.log(`hot path, ours / pino to /dev/null: ${(ours.hotNs / devnull.hotNs).toFixed(2)}`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
