import { env } from 'cloudflare:test';
import { exports } from 'cloudflare:workers';
import { createSql, type Sql } from '../../shared/db/client';
import { createKey, type Scope } from '../../shared/db/api-keys';

export const BASE = 'http://logs.test';

/** A client to the test database, for checking what the Worker stored. */
export function testSql(): Sql {
  return createSql(env.HYPERDRIVE.connectionString, { max: 2 });
}

export async function makeKey(service: string, scopes?: Scope[]): Promise<string> {
  const sql = testSql();
  try {
    return (await createKey(sql, { service, scopes, name: 'test' })).key;
  } finally {
    await sql.end();
  }
}

/** A service name no other test uses, so tests can share one database. */
export function uniqueService(prefix = 'svc'): string {
  return `${prefix}_${crypto.randomUUID().slice(0, 8)}`;
}

export interface PostOptions {
  key?: string | null;
  headers?: Record<string, string>;
  gzip?: boolean;
  raw?: BodyInit;
}

export async function postIngest(body: unknown, options: PostOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  let payload: BodyInit = options.raw ?? JSON.stringify(body);
  if (options.gzip) {
    const stream = new Blob([payload as string]).stream().pipeThrough(new CompressionStream('gzip'));
    payload = await new Response(stream).arrayBuffer();
    headers['content-encoding'] = 'gzip';
  }
  return exports.default.fetch(new Request(`${BASE}/v1/ingest`, { method: 'POST', headers, body: payload }));
}

export function get(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return exports.default.fetch(new Request(`${BASE}${path}`, { headers }));
}
