/**
 * The service's settings, typed once, with their defaults: the one place a default is written.
 * Settings parse from a plain object of strings (a Worker's bindings, `process.env`, `Deno.env`),
 * so every host reads them the same way; a misconfigured deployment fails at its entry naming
 * each bad variable and why, instead of misbehaving later.
 */
import { z } from 'zod';

const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);

export const SettingsSchema = z.object({
  /** Records (logs + metrics) per request. */
  MAX_RECORDS_PER_REQUEST: int(1000, 1),
  /** Bytes per request body, after gzip decoding. */
  MAX_BODY_BYTES: int(1024 * 1024, 1024),
  /** How far in the future a record's timestamp may be (clock skew). */
  MAX_FUTURE_SKEW_SECONDS: int(600),
  /** How old a record's timestamp may be when it is first ingested. */
  MAX_RECORD_AGE_DAYS: int(30, 1),
  /** Day partitions created ahead of today by the scheduled job. */
  PARTITION_PREMAKE_DAYS: int(14, 1),
  /** Retention (the seed's defaults): days a day stays active, and how long each class is kept. */
  RETENTION_ARCHIVE_AFTER_DAYS: int(30, 1),
  RETENTION_SYSTEM_LOGS_DAYS: int(30, 1),
  RETENTION_PERFORMANCE_LOGS_DAYS: int(30, 1),
  RETENTION_ERROR_LOGS_DAYS: int(90, 1),
  RETENTION_TRADING_LOGS_DAYS: int(90, 1),
  /** QStash API (the local one in development). */
  QSTASH_URL: z.string().url().default('https://qstash.upstash.io'),
  /** QStash token (a secret). Unset: no fallback, a batch the database cannot take is answered 503. */
  QSTASH_TOKEN: z.string().min(1).optional(),
  /** Signing keys (secrets). Unset: /v1/replay and /v1/replay/failed refuse everything. */
  QSTASH_CURRENT_SIGNING_KEY: z.string().min(1).optional(),
  QSTASH_NEXT_SIGNING_KEY: z.string().min(1).optional(),
  /** This service's public base URL, as QStash calls it. Default: the origin of the request. */
  PUBLIC_URL: z.string().url().optional(),
  /** Deliveries QStash retries before giving up (then the failure callback keeps the batch). */
  QSTASH_RETRIES: int(5),
  /** Largest message published; larger batches are split. */
  QSTASH_MAX_MESSAGE_BYTES: int(1_000_000, 10_000),
  /** OTLP/HTTP caps (OTLP clients do not retry a 413, so these cover what SDKs and collectors send by default). */
  OTLP_MAX_RECORDS_PER_REQUEST: int(8192, 1),
  OTLP_MAX_BODY_BYTES: int(8 * 1024 * 1024, 1024),
  /**
   * Per-key rate limits when the key names none (`keys create --rate`, `--request-rate`): records
   * and requests per second, each with a burst of RATE_LIMIT_BURST_SECONDS of its rate (never
   * fewer records than the largest request may carry).
   */
  RATE_LIMIT_RECORDS_PER_SECOND: int(10_000, 1),
  RATE_LIMIT_REQUESTS_PER_SECOND: int(100, 1),
  RATE_LIMIT_BURST_SECONDS: int(2, 1),
  /**
   * Origins (comma-separated, e.g. `https://ops.example.com`) whose pages may call the API from a
   * browser (CORS). Empty, the default: no CORS headers, so only same-origin pages can.
   */
  CORS_ALLOWED_ORIGINS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    ),
  /** Alert windows end on the minute at least this long before the evaluation, so late records are in. */
  ALERT_EVALUATION_DELAY_SECONDS: int(15),
  /** Rules not started this long into an evaluation wait for the next minute (a Workers cron has 30 s of CPU). */
  ALERT_EVALUATION_BUDGET_MS: int(20_000, 1000),
  /**
   * How long an evaluation's lease lasts unless renewed (it is, at every rule). A run that died
   * with the database cannot release it, and holds off the next run this long: keep it under a minute.
   */
  ALERT_LEASE_SECONDS: int(55, 1),
});

export type Settings = z.output<typeof SettingsSchema>;

/** The Workers bindings: the settings, and the Hyperdrive binding the database is reached through. */
export const WorkerEnvSchema = z.object({
  HYPERDRIVE: z.custom<Hyperdrive>(
    (v) => typeof v === 'object' && v !== null && typeof (v as Hyperdrive).connectionString === 'string',
    'HYPERDRIVE binding is missing (see [[hyperdrive]] in wrangler.toml)',
  ),
  /** Optional: a second Hyperdrive configuration, on a read replica, for the query API. */
  HYPERDRIVE_READ: z
    .custom<Hyperdrive>(
      (v) => typeof v === 'object' && v !== null && typeof (v as Hyperdrive).connectionString === 'string',
      'HYPERDRIVE_READ must be a Hyperdrive binding',
    )
    .optional(),
  ...SettingsSchema.shape,
});

export type Env = z.input<typeof WorkerEnvSchema>;
export type WorkerEnv = z.output<typeof WorkerEnvSchema>;

/**
 * The long-lived hosts (functions/node.ts, functions/deno.ts): where they listen, the database, and
 * the pool every request shares (the Worker's pool is Hyperdrive's, configured there).
 */
export const PooledHostSchema = SettingsSchema.extend({
  /** The Postgres the service writes to (required). */
  DATABASE_URL: z.string({ error: 'DATABASE_URL is required: the Postgres the service writes to' }).min(1),
  /**
   * A read replica of it for the query API (logs, traces, stats, the dashboard), so incident
   * queries never compete with ingest; reads fall back to the primary while it cannot be reached.
   * Unset: everything on DATABASE_URL.
   */
  READ_DATABASE_URL: z.string().min(1).optional(),
  PORT: int(8787, 1),
  /** Interface to listen on; `0.0.0.0` (every interface, as in a container) unless set. */
  HOSTNAME: z.string().min(1).default('0.0.0.0'),
  /** Connections in the process's pool, shared by every request. */
  DB_POOL_MAX: int(10, 1),
  /** An idle connection closes after this long (0: never). */
  DB_IDLE_TIMEOUT_SECONDS: int(20),
  /** Postgres' statement_timeout on the request pool's connections (jobs have their own client). */
  DB_STATEMENT_TIMEOUT_MS: int(15_000),
  /**
   * How long a request's query may wait for a connection of the pool (every one in a transaction
   * or at its pipelining limit, or a new one still opening: the database slow to accept) before it
   * fails, never sent, as a transient error: ingest then hands the batch to QStash (or answers 503)
   * instead of hanging. A query pipelined behind a slow one is not limited by it (statement_timeout
   * is). 0: wait as long as it takes.
   */
  DB_QUEUE_TIMEOUT_MS: int(5_000),
  /** On SIGTERM: how long in-flight requests and work after them may take before the pool is ended. */
  SHUTDOWN_TIMEOUT_MS: int(10_000, 100),
});
export type PooledHostSettings = z.output<typeof PooledHostSchema>;

/** The retention job's settings: the Worker reads them from its bindings, `npm run cleanup` from its environment. */
export const RetentionSettingsSchema = SettingsSchema.pick({
  RETENTION_ARCHIVE_AFTER_DAYS: true,
  RETENTION_SYSTEM_LOGS_DAYS: true,
  RETENTION_PERFORMANCE_LOGS_DAYS: true,
  RETENTION_ERROR_LOGS_DAYS: true,
  RETENTION_TRADING_LOGS_DAYS: true,
  PARTITION_PREMAKE_DAYS: true,
});
export type RetentionSettings = z.output<typeof RetentionSettingsSchema>;

/** The scheduled jobs, by cron expression (wrangler.toml's [triggers] lists the same). */
export const SCHEDULES = {
  /** Daily at 02:00 UTC: retention and partition upkeep. */
  retention: '0 2 * * *',
  /** Every minute: the alert evaluator. */
  alerts: '* * * * *',
} as const;

/** Parses settings with `schema`, or throws `invalid <what>: ` and every bad variable with why. */
export function parseConfig<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success)
    throw new Error(`invalid ${what}: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return result.data;
}

/** Settings from a plain environment object (`process.env`, `Deno.env.toObject()`). */
export function parseSettings(input: Record<string, unknown>): Settings {
  return parseConfig(SettingsSchema, input, 'configuration');
}

const cache = new WeakMap<object, WorkerEnv>();

/** Parses a Worker's bindings once per env object (they are fixed for the isolate's life). */
export function parseEnv(env: Env): WorkerEnv {
  let parsed = cache.get(env);
  if (!parsed) {
    parsed = parseConfig(WorkerEnvSchema, env, 'Worker configuration');
    cache.set(env, parsed);
  }
  return parsed;
}
