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
});

export type Env = z.input<typeof EnvSchema>;
export type Config = z.output<typeof EnvSchema>;

const cache = new WeakMap<object, Config>();

/** Parses the bindings once per env object (they are fixed for the isolate's life). */
export function parseEnv(env: Env): Config {
  let config = cache.get(env);
  if (!config) {
    const result = EnvSchema.safeParse(env);
    if (!result.success) {
      throw new Error(`invalid Worker configuration: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    config = result.data;
    cache.set(env, config);
  }
  return config;
}
