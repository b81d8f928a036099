/**
 * npm run keys -- create <service|*> [--scopes ingest,read,admin] [--name NAME] [--rate N]
 *                        [--request-rate N] [--quota N] [--expires 90d]
 * npm run keys -- list
 * npm run keys -- rotate <id> [--grace 24h]
 * npm run keys -- revoke <id>
 *
 * Uses DATABASE_URL, or the embedded Postgres (started for the command if it is not running).
 * `create` and `rotate` print the new key alone on their last line; only its sha-256 is stored.
 * Each change is written to the audit trail as `cli:<user>`.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { audit } from '../audit';
import { createSql, type Sql } from '../db/client';
import { createKey, listKeys, revokeKey, rotateKey, SCOPES, type Scope } from '../db/api-keys';
import { ServiceSchema } from '../api/wire';
import { migrate, openDatabase } from '../dev/postgres';

const USAGE =
  'usage: npm run keys -- create <service|*> [--scopes ingest,read,admin] [--name NAME] [--rate RECORDS/S] [--request-rate REQUESTS/S] [--quota RECORDS/DAY] [--expires 90d] | list | rotate <id> [--grace 24h] | revoke <id>';

/** `90d`, `12h`, `30m` or `45s` in seconds; undefined when it is none of those. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+)\s*([dhms])$/.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * { d: 86_400, h: 3_600, m: 60, s: 1 }[m[2] as 'd' | 'h' | 'm' | 's'];
}

function positiveInt(name: string, text: string | undefined): number | null {
  if (text === undefined) return null;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) fail(`--${name} must be a whole number above 0, got "${text}"`);
  return n;
}

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

interface Command {
  command: 'create' | 'list' | 'rotate' | 'revoke';
  arg: string | undefined;
  scopes: Scope[];
  name: string | null;
  rate: number | null;
  requestRate: number | null;
  quota: number | null;
  expiresIn: number | undefined;
  grace: number;
}

/** The command line, checked: exits 2 with the reason when it is wrong. */
function parseCommand(): Command {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      scopes: { type: 'string', default: 'ingest' },
      name: { type: 'string' },
      rate: { type: 'string' },
      'request-rate': { type: 'string' },
      quota: { type: 'string' },
      expires: { type: 'string' },
      grace: { type: 'string', default: '24h' },
    },
  });
  const [command, arg] = positionals;
  if (!command || !['create', 'list', 'rotate', 'revoke'].includes(command)) fail(USAGE);
  const expiresIn = values.expires === undefined ? undefined : parseDuration(values.expires);
  if (values.expires !== undefined && !expiresIn) fail(`--expires takes a duration such as 90d, 12h or 30m, got "${values.expires}"`);
  const grace = parseDuration(values.grace!);
  if (grace === undefined) fail(`--grace takes a duration such as 24h or 30m, got "${values.grace}"`);
  let scopes: Scope[] = [];
  if (command === 'create') {
    if (!arg) fail(USAGE);
    if (arg !== '*' && !ServiceSchema.safeParse(arg).success)
      fail(`invalid service name "${arg}": 1-50 letters, digits, "_", "." or "-", or "*"`);
    scopes = values.scopes!.split(',').map((s) => s.trim()) as Scope[];
    const unknown = scopes.filter((s) => !SCOPES.includes(s));
    if (unknown.length || scopes.length === 0) fail(`unknown scope(s) ${unknown.join(', ')}; valid: ${SCOPES.join(', ')}`);
    if (scopes.includes('admin') && arg !== '*') fail(`an admin key is for every service: create it for '*', not "${arg}"`);
  }
  if ((command === 'revoke' || command === 'rotate') && !/^[0-9a-f-]{36}$/i.test(arg ?? ''))
    fail(`"${arg ?? ''}" is not a key id (see npm run keys -- list)`);
  return {
    command: command as Command['command'],
    arg,
    scopes,
    name: values.name ?? null,
    rate: positiveInt('rate', values.rate),
    requestRate: positiveInt('request-rate', values['request-rate']),
    quota: positiveInt('quota', values.quota),
    expiresIn,
    grace,
  };
}

async function run(sql: Sql, c: Command, actor: string) {
  if (c.command === 'create') {
    const expiresAt = c.expiresIn ? new Date(Date.now() + c.expiresIn * 1000) : null;
    const limits = { rateRecordsPerSecond: c.rate, rateRequestsPerSecond: c.requestRate, dailyQuota: c.quota, expiresAt };
    const { id, key } = await createKey(sql, { service: c.arg!, scopes: c.scopes, name: c.name, ...limits });
    await audit(sql, { actor, action: 'key.created', target: id, details: { service: c.arg, scopes: c.scopes, ...limits } });
    console.log(`created key ${id} for service "${c.arg}" with scopes ${c.scopes.join(',')}. Store it now; it cannot be shown again:`);
    console.log(key);
  } else if (c.command === 'list') {
    const keys = await listKeys(sql);
    if (keys.length === 0) console.log('no keys');
    for (const k of keys) console.log(describeKey(k));
  } else if (c.command === 'rotate') {
    const rotated = await rotateKey(sql, c.arg!, c.grace);
    if (!rotated) fail(`no active key with id ${c.arg}`);
    await audit(sql, {
      actor,
      action: 'key.rotated',
      target: c.arg,
      details: { new_key: rotated.id, old_key_valid_until: rotated.oldExpiresAt },
    });
    console.log(`rotated ${c.arg}: it stays valid until ${rotated.oldExpiresAt.toISOString()}. The new key ${rotated.id}; store it now:`);
    console.log(rotated.key);
  } else {
    if (!(await revokeKey(sql, c.arg!))) fail(`no active key with id ${c.arg}`);
    await audit(sql, { actor, action: 'key.revoked', target: c.arg });
    console.log(`revoked ${c.arg}`);
  }
}

async function main() {
  const command = parseCommand();
  const db = await openDatabase();
  if (!process.env.DATABASE_URL) await migrate(db.url); // the embedded database is ours to keep current
  const sql = createSql(db.url, { max: 1 });
  try {
    await run(sql, command, `cli:${os.userInfo().username}`);
  } finally {
    await sql.end();
    await db.stop();
  }
}

function describeKey(k: Awaited<ReturnType<typeof listKeys>>[number]): string {
  const expired = k.expires_at && Date.parse(k.expires_at) <= Date.now();
  const state = k.revoked_at ? `revoked ${k.revoked_at.toISOString()}` : expired ? `expired ${k.expires_at}` : 'active';
  const parts = [
    k.id,
    `${k.prefix}…`,
    `service=${k.service}`,
    `scopes=${k.scopes.join(',')}`,
    state,
    `created ${k.created_at.toISOString()}`,
    `used today ${k.used_today}${k.daily_quota ? ` of ${k.daily_quota}` : ''} records`,
    `last used ${k.last_used_at ? k.last_used_at.toISOString() : 'never'}`,
  ];
  if (k.expires_at && !expired && !k.revoked_at) parts.push(`expires ${k.expires_at}`);
  if (k.rate_records_per_second) parts.push(`rate=${k.rate_records_per_second}/s`);
  if (k.rate_requests_per_second) parts.push(`request-rate=${k.rate_requests_per_second}/s`);
  if (k.rotated_to) parts.push(`rotated to ${k.rotated_to}`);
  if (k.name) parts.push(`name=${k.name}`);
  return parts.join('  ');
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
