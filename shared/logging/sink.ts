/**
 * Where batches go. The default is HttpSink (POST /v1/ingest); the service's own functions can use
 * a sink that writes to the database directly.
 */
import type { IngestRequest, IngestResponse, RejectedRecord } from '../wire.ts';

export type SendResult =
  | { ok: true; rejected: RejectedRecord[] }
  | { ok: false; retryable: boolean; retryAfterMs?: number; status?: number; reason: string };

export interface Sink {
  send(batch: IngestRequest): Promise<SendResult>;
}

export interface HttpSinkOptions {
  /** Base URL of the ingest service, e.g. `https://logs.example.com`; `/v1/ingest` is appended. */
  endpoint: string;
  apiKey: string;
  /** Compress bodies with gzip. Default true. */
  gzip?: boolean;
  /** Per-request timeout. Default 15 000 ms. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);

/** Sends a batch to POST /v1/ingest. Never throws: every outcome is a SendResult. */
export class HttpSink implements Sink {
  readonly url: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: HttpSinkOptions) {
    this.url = new URL('/v1/ingest', options.endpoint).toString();
    this.fetch = options.fetch ?? ((...args) => fetch(...args));
  }

  async send(batch: IngestRequest): Promise<SendResult> {
    const json = toJsonSafe(batch);
    const gzip = this.options.gzip ?? true;
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.options.apiKey}`,
      'content-type': 'application/json',
    };
    let body: string | Uint8Array = json;
    try {
      if (gzip) {
        body = await gzipText(json);
        headers['content-encoding'] = 'gzip';
      }
      const res = await this.fetch(this.url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 15_000),
      });
      const text = await res.text();
      if (res.status === 200 || res.status === 202) {
        const parsed = safeJson(text) as Partial<IngestResponse> | undefined;
        return { ok: true, rejected: parsed?.rejected ?? [] };
      }
      const message = (safeJson(text) as { message?: string } | undefined)?.message ?? text.slice(0, 200);
      return {
        ok: false,
        retryable: RETRYABLE_STATUS.has(res.status),
        status: res.status,
        retryAfterMs: parseRetryAfter(res.headers.get('retry-after')),
        reason: `HTTP ${res.status}: ${message}`,
      };
    } catch (error) {
      return { ok: false, retryable: true, reason: `network error: ${(error as Error).message}` };
    }
  }
}

/**
 * The batch as JSON. A record whose `data` cannot be serialised (a cycle, a BigInt, a throwing
 * toJSON) gets `data: { unserialisable: reason }` instead of failing, and so blocking, the batch.
 */
export function toJsonSafe(batch: IngestRequest): string {
  try {
    return JSON.stringify(batch);
  } catch {
    const fix = <T extends { data?: unknown }>(records: T[] | undefined) =>
      records?.map((r) => {
        try {
          JSON.stringify(r.data);
          return r;
        } catch (error) {
          return { ...r, data: { unserialisable: String((error as Error)?.message ?? error) } };
        }
      });
    return JSON.stringify({ logs: fix(batch.logs as { data?: unknown }[]), metrics: fix(batch.metrics as { data?: unknown }[]) });
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

type Gzip = (text: string) => Promise<Uint8Array>;
let gzipImpl: Promise<Gzip> | undefined;

/** node:zlib where the runtime has it (Node, Deno, Workers with nodejs_compat), else CompressionStream. */
export function gzipText(text: string): Promise<Uint8Array> {
  gzipImpl ??= import('node:zlib')
    .then((zlib): Gzip => (t) =>
      new Promise((resolve, reject) => zlib.gzip(t, { level: 6 }, (err, out) => (err ? reject(err) : resolve(out)))),
    )
    .catch((): Gzip => async (t) => {
      const stream = new Blob([t]).stream().pipeThrough(new CompressionStream('gzip'));
      return new Uint8Array(await new Response(stream).arrayBuffer());
    });
  return gzipImpl.then((gz) => gz(text));
}
