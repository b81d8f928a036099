/**
 * Postgres refuses the NUL character in text and jsonb, and a lone UTF-16 surrogate in jsonb; a
 * single such string would fail the whole batch's statement. Those characters are replaced with
 * U+FFFD (the replacement character) in every string of a record, keys included.
 */

// In raw JSON text both can only arrive as escapes: \u0000, or \uD800-\uDFFF.
const SUSPECT_ESCAPE = /\\u0000|\\u[dD][89a-fA-F]/;

/** False when the raw JSON text cannot contain such a character, so records need no walk. */
export function mayNeedSanitizing(rawJson: string): boolean {
  return SUSPECT_ESCAPE.test(rawJson);
}

function fixString(s: string): string {
  return s.replaceAll('\u0000', '\uFFFD').toWellFormed();
}

function isBad(s: string): boolean {
  return s.includes('\u0000') || !s.isWellFormed();
}

/** Returns the value with every offending string fixed, and whether anything changed. */
export function sanitize<T>(value: T): { value: T; changed: boolean } {
  let changed = false;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      if (!isBad(v)) return v;
      changed = true;
      return fixString(v);
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, inner] of Object.entries(v)) {
        if (isBad(k)) changed = true;
        out[isBad(k) ? fixString(k) : k] = walk(inner);
      }
      return out;
    }
    return v;
  };
  const result = walk(value) as T;
  return { value: changed ? result : value, changed };
}
