/**
 * Starts a throwaway embedded Postgres (unless DATABASE_URL is set), migrates it, and hands its URL
 * to the tests (`inject('databaseUrl')`) and to the Worker's Hyperdrive binding.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { freePort, migrate, startEmbedded, type Database } from '../../shared/cli/database';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

let db: Database | undefined;
let dir: string | undefined;

export async function setup(project: TestProject) {
  let url = process.env.DATABASE_URL;
  if (!url) {
    dir = mkdtempSync(path.join(os.tmpdir(), 'logs-test-pg-'));
    chmodSync(dir, 0o755); // the embedded server runs as the postgres user when we are root
    db = await startEmbedded({ dataDir: path.join(dir, 'data'), port: await freePort(), ephemeral: true });
    url = db.url;
  }
  await migrate(url);
  project.provide('databaseUrl', url);
}

export async function teardown() {
  await db?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}
