/**
 * npm run keys -- create <service|*> [--scopes ingest,read,admin] [--name NAME]
 * npm run keys -- list
 * npm run keys -- revoke <id>
 *
 * Uses DATABASE_URL, or the embedded Postgres (started for the command if it is not running).
 * `create` prints the new key alone on its last line; only its sha-256 is stored.
 */
import { parseArgs } from 'node:util';
import { createSql } from '../db/client';
import { createKey, listKeys, revokeKey, SCOPES, type Scope } from '../db/api-keys';
import { ServiceSchema } from '../api/wire';
import { migrate, openDatabase } from '../dev/postgres';

const USAGE = 'usage: npm run keys -- create <service|*> [--scopes ingest,read,admin] [--name NAME] | list | revoke <id>';

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

async function main() {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { scopes: { type: 'string', default: 'ingest' }, name: { type: 'string' } },
  });
  const [command, arg] = positionals;
  if (!command || !['create', 'list', 'revoke'].includes(command)) fail(USAGE);

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
  if (command === 'revoke' && !arg) fail(USAGE);

  const db = await openDatabase();
  if (!process.env.DATABASE_URL) await migrate(db.url); // the embedded database is ours to keep current
  const sql = createSql(db.url, { max: 1 });
  try {
    if (command === 'create') {
      const { id, key } = await createKey(sql, { service: arg!, scopes, name: values.name ?? null });
      console.log(`created key ${id} for service "${arg}" with scopes ${scopes.join(',')}. Store it now; it cannot be shown again:`);
      console.log(key);
    } else if (command === 'list') {
      const keys = await listKeys(sql);
      if (keys.length === 0) console.log('no keys');
      for (const k of keys) {
        const state = k.revoked_at ? `revoked ${k.revoked_at.toISOString()}` : 'active';
        console.log(
          `${k.id}  ${k.prefix}…  service=${k.service}  scopes=${k.scopes.join(',')}  ${state}  created ${k.created_at.toISOString()}${k.name ? `  name=${k.name}` : ''}`,
        );
      }
    } else {
      if (!/^[0-9a-f-]{36}$/i.test(arg!)) fail(`"${arg}" is not a key id (see npm run keys -- list)`);
      if (!(await revokeKey(sql, arg!))) fail(`no active key with id ${arg}`);
      console.log(`revoked ${arg}`);
    }
  } finally {
    await sql.end();
    await db.stop();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
