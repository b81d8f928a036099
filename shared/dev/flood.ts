/**
 * A flood from one key against a base URL while a second key sends a trickle: the rate-limit test
 * (test/node/access-limits.test.ts) and benchmark (test/bench/limits.ts) drive hosts with it.
 */

const batch = (service: string, n: number) =>
  JSON.stringify({ logs: Array.from({ length: n }, (_, i) => ({ service, level: 'INFO', message: `m${i}`, data: { i } })) });

const post = (base: string, key: string, body: string) =>
  fetch(`${base}/v1/ingest`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body });

export interface Trickle {
  p95: number;
  statuses: number[];
}

/** `records`-record batches from `key` every `everyMs` for `ms`: each one's status, and the p95 latency. */
export async function trickle(base: string, key: string, service: string, ms: number, records = 50, everyMs = 100): Promise<Trickle> {
  const latencies: number[] = [];
  const statuses: number[] = [];
  const body = batch(service, records);
  for (const end = Date.now() + ms; Date.now() < end; ) {
    const t = performance.now();
    const res = await post(base, key, body);
    await res.arrayBuffer();
    latencies.push(performance.now() - t);
    statuses.push(res.status);
    await new Promise((r) => setTimeout(r, everyMs));
  }
  latencies.sort((a, b) => a - b);
  return { p95: latencies[Math.floor(latencies.length * 0.95)]!, statuses };
}

export interface FloodResult {
  /** The trickle during the flood. */
  loaded: Trickle;
  seconds: number;
  refused: number;
  /** Refusals that carried a Retry-After of at least 1 s. */
  withRetryAfter: number;
}

/** `streams` concurrent streams of `records`-record batches from `floodKey`, as fast as answered, for `seconds`, beside a trickle. */
export async function flood(
  base: string,
  options: {
    floodKey: string;
    floodService: string;
    calmKey: string;
    calmService: string;
    seconds: number;
    streams?: number;
    records?: number;
  },
): Promise<FloodResult> {
  const body = batch(options.floodService, options.records ?? 500);
  let refused = 0;
  let withRetryAfter = 0;
  const started = Date.now();
  const end = started + options.seconds * 1000;
  const stream = async () => {
    while (Date.now() < end) {
      const res = await post(base, options.floodKey, body);
      await res.arrayBuffer();
      if (res.status !== 429) continue;
      refused++;
      if (Number(res.headers.get('retry-after')) >= 1) withRetryAfter++;
    }
  };
  const [loaded] = await Promise.all([
    trickle(base, options.calmKey, options.calmService, options.seconds * 1000),
    ...Array.from({ length: options.streams ?? 8 }, stream),
  ]);
  return { loaded, seconds: (Date.now() - started) / 1000, refused, withRetryAfter };
}
