import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createSql } from '../../shared/db/client';
import { sha256Hex } from '../../shared/db/api-keys';
import { projectRoot } from '../../shared/dev/postgres';

const run = promisify(execFile);
const databaseUrl = inject('databaseUrl');
const sql = createSql(databaseUrl, { max: 1 });
afterAll(() => sql.end());

function keys(...args: string[]) {
  return run(path.join(projectRoot, 'node_modules', '.bin', 'tsx'), ['shared/cli/keys.ts', ...args], {
    cwd: projectRoot,
    env: { ...process.env, DATABASE_URL: databaseUrl },
  });
}

describe('npm run keys', () => {
  it('create prints the key alone on its last line, stores only its hash, list shows it, revoke revokes it', async () => {
    const { stdout } = await keys('create', 'execution', '--name', 'cli-test');
    const key = stdout.trim().split('\n').at(-1)!;
    expect(key).toMatch(/^lk_[A-Za-z0-9_-]{43}$/);
    const [row] = await sql<{ id: string; service: string; scopes: string[] }[]>`
      SELECT id, service, to_json(scopes) AS scopes FROM logging.api_keys WHERE key_hash = ${await sha256Hex(key)}`;
    expect(row).toMatchObject({ service: 'execution', scopes: ['ingest'] });
    const stored = await sql`SELECT 1 FROM logging.api_keys WHERE key_hash = ${key} OR prefix = ${key}`;
    expect(stored).toHaveLength(0);

    const listed = (await keys('list')).stdout;
    expect(listed).toContain(row!.id);
    expect(listed).not.toContain(key);

    await keys('revoke', row!.id);
    const [after] = await sql<{ revoked: boolean }[]>`SELECT revoked_at IS NOT NULL AS revoked FROM logging.api_keys WHERE id = ${row!.id}`;
    expect(after!.revoked).toBe(true);
    await expect(keys('revoke', row!.id)).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/no active key/) });
  });

  it('create with limits and an expiry, rotate with a grace period, list them; each change leaves an audit record', async () => {
    const { stdout } = await keys(
      'create',
      'risk_management',
      '--rate',
      '5000',
      '--request-rate',
      '20',
      '--quota',
      '100000',
      '--expires',
      '90d',
    );
    const key = stdout.trim().split('\n').at(-1)!;
    const [row] = await sql<{ id: string; r: number; q: number; d: string; days: number }[]>`
      SELECT id, rate_records_per_second AS r, rate_requests_per_second AS q, daily_quota::text AS d,
             round(extract(epoch FROM expires_at - now()) / 86400)::int AS days
      FROM logging.api_keys WHERE key_hash = ${await sha256Hex(key)}`;
    expect(row).toMatchObject({ r: 5000, q: 20, d: '100000', days: 90 });

    const rotated = await keys('rotate', row!.id, '--grace', '1h');
    const newKey = rotated.stdout.trim().split('\n').at(-1)!;
    expect(newKey).toMatch(/^lk_/);
    const [old] = await sql<{ minutes: number; rotated_to: string }[]>`
      SELECT round(extract(epoch FROM expires_at - now()) / 60)::int AS minutes, rotated_to::text FROM logging.api_keys WHERE id = ${row!.id}`;
    expect(old!.minutes).toBe(60);
    const [fresh] = await sql<{ id: string; r: number; d: string }[]>`
      SELECT id, rate_records_per_second AS r, daily_quota::text AS d FROM logging.api_keys WHERE key_hash = ${await sha256Hex(newKey)}`;
    expect(fresh).toMatchObject({ id: old!.rotated_to, r: 5000, d: '100000' });

    const listed = (await keys('list')).stdout.split('\n').find((l) => l.startsWith(row!.id))!;
    expect(listed).toMatch(/used today 0 of 100000 records/);
    expect(listed).toMatch(/last used never/);
    expect(listed).toContain(`rotated to ${fresh!.id}`);
    await keys('revoke', fresh!.id);

    const trail = await sql<{ action: string; actor: string; target: string }[]>`
      SELECT data->>'action' AS action, data->>'actor' AS actor, data->>'target' AS target FROM logging.system_logs
      WHERE event_type = 'audit' AND data->>'target' IN (${row!.id}, ${fresh!.id}) ORDER BY "timestamp"`;
    expect(trail.map((t) => [t.action, t.target])).toEqual([
      ['key.created', row!.id],
      ['key.rotated', row!.id],
      ['key.revoked', fresh!.id],
    ]);
    expect(trail.every((t) => t.actor.startsWith('cli:'))).toBe(true);
    await expect(keys('create', 'execution', '--expires', 'soon')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--expires takes a duration/),
    });
    await expect(keys('create', 'execution', '--rate', '0')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--rate must be/),
    });
  });

  it('creates read and all-service keys, and refuses bad input with the reason', async () => {
    const { stdout } = await keys('create', '*', '--scopes', 'ingest,read');
    const key = stdout.trim().split('\n').at(-1)!;
    const [row] = await sql<{ service: string; scopes: string[] }[]>`
      SELECT service, to_json(scopes) AS scopes FROM logging.api_keys WHERE key_hash = ${await sha256Hex(key)}`;
    expect(row).toEqual({ service: '*', scopes: ['ingest', 'read'] });
    await expect(keys('create', 'bad service!')).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/invalid service name/) });
    await expect(keys('create', 'x', '--scopes', 'owner')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/unknown scope/),
    });
    // Admin keys manage alerting for every service: only for '*'.
    await expect(keys('create', 'x', '--scopes', 'admin')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/an admin key is for every service/),
    });
    await expect(keys('frobnicate')).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/usage/) });
  });
});
