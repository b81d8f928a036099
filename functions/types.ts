import type { OpenAPIHono } from '@hono/zod-openapi';
import type { RequestIdVariables } from 'hono/request-id';
import type { ApiKey } from '../shared/db/keys';
import type { Sql } from '../shared/db/client';
import type { Config, Env } from '../shared/env';
import type { Logger } from '../shared/logging';

/** What every handler finds on the context (set by the middleware in functions/middleware). */
export interface AppEnv {
  Bindings: Env;
  Variables: RequestIdVariables & {
    config: Config;
    sql: Sql;
    apiKey: ApiKey;
    /** The service's own logger: WARNING+ to the console, everything to its own tables. */
    logger: Logger;
  };
}

export type App = OpenAPIHono<AppEnv>;
