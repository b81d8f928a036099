/**
 * The Worker's bindings and variables, typed once. `parseEnv` validates them at the entry; a
 * misconfigured deployment fails with the variable's name instead of misbehaving later.
 */
import { z } from 'zod';

const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);

export const EnvSchema = z.object({
  HYPERDRIVE: z.custom<Hyperdrive>(
    (v) => typeof v === 'object' && v !== null && typeof (v as Hyperdrive).connectionString === 'string',
    'HYPERDRIVE binding is missing (see [[hyperdrive]] in wrangler.toml)',
  ),
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
});

export type Env = z.input<typeof EnvSchema>;
export type Config = z.output<typeof EnvSchema>;

/** The retention job's settings: the Worker reads them from its bindings, `npm run cleanup` from its environment. */
export const RetentionEnvSchema = EnvSchema.pick({
  RETENTION_ARCHIVE_AFTER_DAYS: true,
  RETENTION_SYSTEM_LOGS_DAYS: true,
  RETENTION_PERFORMANCE_LOGS_DAYS: true,
  RETENTION_ERROR_LOGS_DAYS: true,
  RETENTION_TRADING_LOGS_DAYS: true,
  PARTITION_PREMAKE_DAYS: true,
});
export type RetentionConfig = z.output<typeof RetentionEnvSchema>;

/** Parses settings with `schema`, or throws `invalid <what>: ` and every bad variable with why. */
export function parseConfig<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new Error(`invalid ${what}: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return result.data;
}

const cache = new WeakMap<object, Config>();

/** Parses the bindings once per env object (they are fixed for the isolate's life). */
export function parseEnv(env: Env): Config {
  let config = cache.get(env);
  if (!config) {
    config = parseConfig(EnvSchema, env, 'Worker configuration');
    cache.set(env, config);
  }
  return config;
}
