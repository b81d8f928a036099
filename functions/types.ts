import type { Hono } from 'hono';
import type { RequestIdVariables } from 'hono/request-id';
import type { ApiKey } from '../shared/db/keys';
import type { Sql } from '../shared/db/client';
import type { Config, Env } from '../shared/env';

/** What every handler finds on the context (set by the middleware in functions/middleware). */
export interface AppEnv {
  Bindings: Env;
  Variables: RequestIdVariables & {
    config: Config;
    sql: Sql;
    apiKey: ApiKey;
  };
}

export type App = Hono<AppEnv>;
