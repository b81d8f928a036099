/**
 * Censoring of secrets before a record leaves the process (the HTTP batch, the console, the stderr
 * fallback), as pino's `redact` does: keys of `data` that name a secret at any depth, configured
 * paths, and the password of a URL in any string (`postgres://user:pw@host`). Applied when a
 * record is serialised, not when it is logged; a record with nothing to censor is returned as it is,
 * without a copy.
 */

export interface RedactOptions {
  /**
   * Paths in `data` to censor, dot-separated, `*` for any one key: `order.account`, `legs.*.account`.
   * Default none.
   */
  paths?: string[];
  /**
   * Key names censored at any depth, compared without case, `-` and `_`, also as the end of a
   * key (`venue_api_key` ends with `apikey`). Default DEFAULT_REDACT_KEYS; `[]` turns them off.
   */
  keys?: string[];
  /** What replaces a censored value. Default '[REDACTED]'. */
  censor?: string;
}

/** Secrets services are known to log: credentials, tokens, session cookies, card and account numbers. */
export const DEFAULT_REDACT_KEYS: readonly string[] = [
  'password',
  'passwd',
  'secret',
  'token',
  'authorization',
  'apikey',
  'privatekey',
  'cookie',
  'accountnumber',
  'cardnumber',
  'cvv',
  'iban',
  'ssn',
];

const normalize = (key: string) => key.toLowerCase().replace(/[-_\s]/g, '');

// scheme://user:password@ — the password is what goes.
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]+@/gi;

export class Redactor {
  private readonly keys: string[];
  private readonly paths: string[][];
  private readonly censor: string;
  private readonly keyCache = new Map<string, boolean>();

  constructor(options: RedactOptions = {}) {
    this.keys = (options.keys ?? DEFAULT_REDACT_KEYS).map(normalize).filter(Boolean);
    this.paths = (options.paths ?? []).map((p) => p.split('.').filter(Boolean)).filter((p) => p.length > 0);
    this.censor = options.censor ?? '[REDACTED]';
  }

  /** The message with any URL password censored. */
  text(message: string): string {
    return message.includes('://') ? message.replace(URL_PASSWORD, `$1${this.censor}@`) : message;
  }

  /** `data` with every secret censored: the same object when nothing matched, else a copy. */
  data<T extends Record<string, unknown> | undefined>(data: T): T {
    if (!data) return data;
    let out = this.walk(data, 0) as T;
    for (const path of this.paths) out = this.censorPath(out, path, 0) as T;
    return out;
  }

  private secretKey(key: string): boolean {
    let hit = this.keyCache.get(key);
    if (hit === undefined) {
      const k = normalize(key);
      hit = this.keys.some((s) => k.endsWith(s));
      if (this.keyCache.size < 10_000) this.keyCache.set(key, hit);
    }
    return hit;
  }

  private walk(value: unknown, depth: number): unknown {
    if (typeof value === 'string') return this.text(value);
    if (value === null || typeof value !== 'object' || depth > 32) return value;
    if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      value.forEach((v, i) => {
        const r = this.walk(v, depth + 1);
        if (r !== v) (copy ??= [...value])[i] = r;
      });
      return copy ?? value;
    }
    if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return value; // Dates, Errors, class instances
    let copy: Record<string, unknown> | undefined;
    for (const [k, v] of Object.entries(value)) {
      const r = this.secretKey(k) ? this.censor : this.walk(v, depth + 1);
      if (r !== v) (copy ??= { ...(value as Record<string, unknown>) })[k] = r;
    }
    return copy ?? value;
  }

  private censorPath(value: unknown, path: string[], i: number): unknown {
    if (value === null || typeof value !== 'object') return value;
    const container = value as Record<string, unknown>;
    const key = path[i]!;
    const keys = key === '*' ? Object.keys(container) : Object.hasOwn(container, key) ? [key] : [];
    let copy: Record<string, unknown> | unknown[] | undefined;
    for (const k of keys) {
      const v = container[k];
      const r = i === path.length - 1 ? this.censor : this.censorPath(v, path, i + 1);
      if (r !== v) (copy ??= Array.isArray(value) ? [...value] : { ...container })[k as never] = r as never;
    }
    return copy ?? value;
  }
}
