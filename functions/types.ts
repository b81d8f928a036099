import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { RequestIdVariables } from 'hono/request-id';
import type { Sql } from '../shared/db/client';
import type { ApiKey } from '../shared/db/api-keys';
import type { Settings } from '../shared/env';
import type { IngestTally } from '../shared/ingest';
import type { Logger } from '../shared/logging';

/** How the app gets a database client, and lets it go. */
export interface Database {
  /** A client: a new one per request on Workers (Hyperdrive pools), the shared pool on a long-lived host. */
  acquire(): Sql;
  /** After the response: ends a per-request client; does nothing for a shared pool. Never rejects. */
  release(sql: Sql): Promise<void>;
  /**
   * A client of the read replica, when there is one (READ_DATABASE_URL, the HYPERDRIVE_READ
   * binding): the query API reads there and falls back to the primary when it cannot be reached.
   */
  acquireReplica?(): Sql;
}

/** What the runtime provides to `createApp`. */
export interface AppDeps {
  settings: Settings;
  database: Database;
  /**
   * Runs `promise` past the response (Workers: `ctx.waitUntil`; a long-lived host keeps it until
   * it settles). Given the request's context, where a host keeps its per-request handle.
   */
  defer(c: Context, promise: Promise<unknown>): void;
}

/** What every handler finds on the context (set by functions/middleware/services.ts). */
export interface AppEnv {
  Variables: RequestIdVariables & {
    settings: Settings;
    database: Database;
    sql: Sql;
    /**
     * Runs a query-API read on the replica (the primary when there is none, or it cannot be
     * reached; the answer's `X-Read-From` header says which).
     */
    read: <T>(query: (sql: Sql) => Promise<T>) => Promise<T>;
    defer: (promise: Promise<unknown>) => void;
    apiKey: ApiKey;
    /** Charges this many records to the key's limits; throws the 429 when they are spent (functions/middleware/limits.ts). */
    charge: (records: number) => Promise<void>;
    /** The service's own logger: WARNING+ to the console, everything to its own tables. */
    logger: Logger;
    /** What this request accepted, rejected and queued: added to the per-minute ingest counters after the response. */
    tally: IngestTally;
  };
}

export type App = OpenAPIHono<AppEnv>;
