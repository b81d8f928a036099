/**
 * What every `npm start*` command runs before the service: the database (DATABASE_URL, or the
 * embedded Postgres with its data in .data/pg) migrated and with the coming days' partitions, and
 * the QStash fallback (QSTASH_URL as given, or a local QStash-compatible server with the official
 * dev server's credentials). The host then gets `vars`: the settings that point it at them.
 */
import type { ChildProcess } from 'node:child_process';
import { createSql } from '../db/client';
import { migrate, openDatabase, type Database } from '../dev/postgres';
import { startLocalQStash, type LocalQStash } from '../dev/qstash/server';
import { DEV_CREDENTIALS } from '../dev/qstash/signing';
import { parseSettings } from '../env';
import { ensurePartitions } from '../retention';
import { DAY_MS } from '../time';

export interface LocalStack {
  db: Database;
  /** QSTASH_* and PUBLIC_URL for the service. */
  vars: Record<string, string>;
  stop(): Promise<void>;
}

export async function startLocalStack(options: { port: number; log: (line: string) => void }): Promise<LocalStack> {
  const { log, port } = options;
  const db = await openDatabase({ log: (l) => process.env.DEBUG && console.log(`[postgres] ${l}`) });
  log(
    db.startedHere
      ? `embedded Postgres ready (${db.url.replace(/:[^:@/]+@/, ':***@')})`
      : `using ${process.env.DATABASE_URL ? 'DATABASE_URL' : 'the running embedded Postgres'}`,
  );
  log(`migrations: ${(await migrate(db.url)).trim().replace(/\n/g, '; ') || 'up to date'}`);
  const sql = createSql(db.url, { max: 1 });
  const premakeDays = parseSettings(process.env).PARTITION_PREMAKE_DAYS;
  const created = await ensurePartitions(sql, new Date(Date.now() - DAY_MS), new Date(Date.now() + premakeDays * DAY_MS));
  await sql.end();
  log(`partitions ready (${created} created)`);

  let qstash: LocalQStash | undefined;
  const vars: Record<string, string> = { PUBLIC_URL: process.env.PUBLIC_URL ?? `http://127.0.0.1:${port}` };
  if (process.env.QSTASH_URL) {
    vars.QSTASH_URL = process.env.QSTASH_URL;
    for (const name of ['QSTASH_TOKEN', 'QSTASH_CURRENT_SIGNING_KEY', 'QSTASH_NEXT_SIGNING_KEY'] as const) {
      if (process.env[name]) vars[name] = process.env[name]!;
    }
    log(`QStash: ${process.env.QSTASH_URL}`);
  } else {
    qstash = await startLocalQStash({ port: Number(process.env.QSTASH_PORT ?? 8080), log: (l) => console.log(`[qstash] ${l}`) });
    Object.assign(vars, {
      QSTASH_URL: qstash.url,
      QSTASH_TOKEN: DEV_CREDENTIALS.token,
      QSTASH_CURRENT_SIGNING_KEY: DEV_CREDENTIALS.currentSigningKey,
      QSTASH_NEXT_SIGNING_KEY: DEV_CREDENTIALS.nextSigningKey,
    });
    log(`local QStash on ${qstash.url} (QSTASH_URL unset)`);
  }
  return {
    db,
    vars,
    async stop() {
      await qstash?.stop();
      await db.stop();
    },
  };
}

/** A service process run on the local stack (wrangler dev, or a bundled Node or Deno host). */
export interface LocalService {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts the local stack, then the service on it, and keeps both until Ctrl-C, SIGTERM or the
 * service's own exit, which stop the service and then the stack and end this process (with the
 * service's exit code when it went first). `stopping()` tells timers to stand down.
 */
export async function runOnLocalStack(options: {
  port: number;
  log: (line: string) => void;
  start(stack: LocalStack): Promise<LocalService>;
}): Promise<{ service: LocalService; stopping(): boolean }> {
  const { log } = options;
  const stack = await startLocalStack({ port: options.port, log });
  let service: LocalService | undefined;
  let stopping = false;
  async function stop(code: number): Promise<never> {
    if (!stopping) {
      stopping = true;
      log('stopping…');
      await service?.stop();
      await stack.stop();
    }
    process.exit(code);
  }
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  try {
    service = await options.start(stack);
  } catch (error) {
    log((error as Error).message);
    return stop(1);
  }
  service.child.once('exit', (code) => void stop(code ?? 1));
  log(`service ready at ${service.url}`);
  return { service, stopping: () => stopping };
}
