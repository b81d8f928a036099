/**
 * npm run alerts -- list                      rules, their state, and what is firing
 * npm run alerts -- apply FILE.json           contact points, mute timings and rules, all or nothing
 * npm run alerts -- evaluate [--now ISO]      one evaluation (outbox rows go to QStash when QSTASH_TOKEN is set)
 *
 * Uses DATABASE_URL, or the embedded Postgres (started for the command if it is not running).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { applyAlertingFile, evaluateAlerts, InvalidAlertingFileError, listInstances, listRules } from '../alerting';
import { createSql, type Sql } from '../db/client';
import { migrate, openDatabase } from '../dev/postgres';
import { parseSettings } from '../env';

const USAGE = 'usage: npm run alerts -- list | apply FILE.json | evaluate [--now 2026-12-02T14:30:00Z]';

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

async function list(sql: Sql) {
  const [rules, instances] = await Promise.all([listRules(sql), listInstances(sql)]);
  if (rules.length === 0) console.log('no rules');
  for (const { rule } of rules) {
    const mine = instances.filter((i) => i.rule === rule.name && i.state !== 'normal');
    console.log(
      `${rule.name}  ${rule.kind}  ${rule.enabled ? 'enabled' : 'disabled'}  window=${rule.window}  ${mine.length ? '' : 'normal'}`,
    );
    for (const i of mine)
      console.log(
        `  ${i.state}${i.severity ? `/${i.severity}` : ''}  ${i.groupKey || '(all)'}  value=${i.value} threshold=${i.threshold}  since ${i.since.toISOString()}`,
      );
  }
}

async function main() {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { now: { type: 'string' } } });
  const [command, arg] = positionals;
  if (!command || !['list', 'apply', 'evaluate'].includes(command) || (command === 'apply' && !arg)) fail(USAGE);
  const now = values.now ? new Date(values.now) : new Date();
  if (Number.isNaN(now.getTime())) fail(`--now: not a time: ${values.now}`);
  const input = command === 'apply' ? JSON.parse(readFileSync(arg!, 'utf8')) : undefined;
  const db = await openDatabase();
  if (!process.env.DATABASE_URL) await migrate(db.url);
  const sql = createSql(db.url, { max: 2 });
  try {
    if (command === 'list') await list(sql);
    else if (command === 'apply') console.log(JSON.stringify(await applyAlertingFile(sql, input, 'cli')));
    else console.log(JSON.stringify(await evaluateAlerts(sql, parseSettings(process.env), now, process.env.PUBLIC_URL)));
  } catch (error) {
    if (error instanceof InvalidAlertingFileError) fail(error.message);
    throw error;
  } finally {
    await sql.end();
    await db.stop();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
