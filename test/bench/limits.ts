/**
 * npm run bench:limits [-- --host workers|node|deno|all --seconds 10 --rate 1000 --timeout 600]
 *
 * The per-key rate limit under a flood, through each host: 8 streams of 500-record batches from
 * one key limited to --rate records/s, as fast as they are answered, while a second key sends 50
 * records every 100 ms. Prints what the flooding key stored against the limit's bound (the burst
 * plus the rate over the time), the refusals, and the second key's p95 latency unloaded and
 * during the flood. Each host gets its own database, so the runs do not share buckets.
 */
import { parseArgs } from 'node:util';
import { ratesOf } from '../../shared/access';
import { createKey } from '../../shared/db/api-keys';
import { SettingsSchema } from '../../shared/env';
import { createSql } from '../../shared/db/client';
import { flood, trickle } from '../../shared/dev/flood';
import { startScratchDatabase } from '../../shared/dev/postgres';
import { hostsOf, startBenchHost, type BenchHost } from './hosts';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: 'all' },
    seconds: { type: 'string', default: '10' },
    rate: { type: 'string', default: '1000' },
    timeout: { type: 'string', default: '600' },
  },
});
const HOSTS = hostsOf(values.host!);
setTimeout(() => {
  console.error(`bench:limits did not finish within ${values.timeout} s (--timeout)`);
  process.exit(1);
}, Number(values.timeout) * 1000).unref();
const SECONDS = Number(values.seconds);
const RATE = Number(values.rate);
// The flooding key's burst as the service computes it (shared/access), with the default settings.
const BURST = ratesOf(
  {
    id: '',
    service: 'flood',
    scopes: ['ingest'],
    expires_at: null,
    rate_records_per_second: RATE,
    rate_requests_per_second: null,
    daily_quota: null,
  },
  SettingsSchema.parse({}),
).recordBurst;

async function measure(name: BenchHost) {
  const db = await startScratchDatabase(`bench-limits-${name}`);
  const sql = createSql(db.url, { max: 2 });
  const host = await startBenchHost(name, db.url);
  try {
    const floodKey = (await createKey(sql, { service: 'flood', rateRecordsPerSecond: RATE })).key;
    const calmKey = (await createKey(sql, { service: 'calm' })).key;
    await trickle(host.url, calmKey, 'calm', 1000); // warm-up
    const unloaded = await trickle(host.url, calmKey, 'calm', 3000);
    const result = await flood(host.url, { floodKey, floodService: 'flood', calmKey, calmService: 'calm', seconds: SECONDS });
    const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM logging.system_logs WHERE service = 'flood'`;
    const bound = BURST + RATE * result.seconds;
    const calmOk = result.loaded.statuses.filter((s) => s === 200).length;
    console.log(
      `${name}: flooding key stored ${row!.n} in ${result.seconds.toFixed(1)} s at ${RATE}/s (bound ${bound.toFixed(0)}, ${((row!.n / bound) * 100).toFixed(1)}% of it); ` +
        `${result.refused} requests refused (${result.withRetryAfter} with Retry-After); ` +
        `second key ${calmOk}/${result.loaded.statuses.length} batches stored, p95 ${unloaded.p95.toFixed(1)} ms unloaded, ${result.loaded.p95.toFixed(1)} ms during the flood (${(result.loaded.p95 / unloaded.p95).toFixed(2)}×)`,
    );
  } finally {
    await host.stop();
    await sql.end();
    await db.stop();
  }
}

async function main() {
  for (const name of HOSTS) await measure(name);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
