import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import worker from '../../functions/worker';
import { parseEnv, type Env } from '../../shared/env';
import type { HealthResponse } from '../../functions/routes/health';
import type { ErrorBody } from '../../shared/api/errors';
import { get } from './helpers';

/** The real app with its Hyperdrive binding pointing at a port where nothing listens. */
async function withDatabaseDown(request: Request): Promise<Response> {
  const ctx = createExecutionContext();
  const downEnv = { ...env, HYPERDRIVE: { ...env.HYPERDRIVE, connectionString: 'postgres://postgres:postgres@127.0.0.1:1/postgres' } };
  const res = await worker.fetch(request, downEnv, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

describe('GET /health', () => {
  it('is 200 when the database answers', async () => {
    const res = await get('/health');
    expect(res.status).toBe(200);
    const body = (await res.json()) as HealthResponse;
    expect(body).toMatchObject({ status: 'ok', database: 'ok' });
    // The evaluator's dead-man's switch: stalled unless a minute was evaluated in the last 3 minutes.
    expect(typeof body.alerts?.stalled).toBe('boolean');
    expect(res.headers.get('x-request-id')).toMatch(/[0-9a-f-]{36}/);
  });

  it('is 503 when it does not', async () => {
    const res = await withDatabaseDown(new Request('http://logs.test/health'));
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'unavailable', database: 'unreachable' });
  });
});

describe('database unavailable during ingest', () => {
  it('answers 503 with Retry-After so the client keeps the batch', async () => {
    const res = await withDatabaseDown(
      new Request('http://logs.test/v1/ingest', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer lk_whatever' },
        body: JSON.stringify({ logs: [{ service: 'execution', level: 'INFO', message: 'x' }] }),
      }),
    );
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    const body = (await res.json()) as ErrorBody;
    expect(body.code).toBe('DATABASE_UNAVAILABLE');
    expect(body.message).not.toMatch(/127\.0\.0\.1|postgres:/);
  });
});

describe('configuration', () => {
  it('a misconfigured Worker fails naming every bad variable and why', () => {
    const bad = { ...env, HYPERDRIVE: undefined, MAX_RECORDS_PER_REQUEST: '0', RETENTION_ERROR_LOGS_DAYS: 'ninety' } as unknown as Env;
    expect(() => parseEnv(bad)).toThrow(
      new RegExp(
        '^invalid Worker configuration: HYPERDRIVE: HYPERDRIVE binding is missing.*; ' +
          'MAX_RECORDS_PER_REQUEST: .*>=1; RETENTION_ERROR_LOGS_DAYS: .*number',
      ),
    );
  });

  it('a misconfigured Worker answers every request with the error envelope', async () => {
    const bad = { ...env, MAX_RECORDS_PER_REQUEST: '0' } as unknown as Env;
    const res = await worker.fetch(new Request('http://logs.test/health'), bad, createExecutionContext());
    expect(res.status).toBe(500);
    expect(((await res.json()) as ErrorBody).code).toBe('INTERNAL');
  });
});
