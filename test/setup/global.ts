/**
 * Starts a throwaway embedded Postgres (unless DATABASE_URL is set), migrates it, and hands its URL
 * to the tests (`inject('databaseUrl')`) and to the Worker's Hyperdrive binding.
 */
import type { TestProject } from 'vitest/node';
import { migrate, startScratchDatabase, type Database } from '../../shared/dev/postgres';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

let db: Database | undefined;

export async function setup(project: TestProject) {
  let url = process.env.DATABASE_URL;
  if (url) await migrate(url);
  else url = (db = await startScratchDatabase('logs-test-pg')).url;
  project.provide('databaseUrl', url);
}

export async function teardown() {
  await db?.stop();
}
