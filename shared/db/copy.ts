import type postgres from 'postgres';

/** A COPY whose stream neither finished nor failed in time (see copyIn). */
export class CopyTimeoutError extends Error {
  override readonly name = 'CopyTimeoutError';
}

/** A value of COPY's text format: `\N` for null, else the text with `\`, tab, newline and CR escaped. */
export function copyField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '\\N';
  const s = String(value);
  return /[\\\t\n\r]/.test(s) ? s.replace(/[\\\t\n\r]/g, escapeChar) : s;
}

function escapeChar(c: string): string {
  return c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r';
}

/**
 * Runs `copy`, a `COPY … FROM STDIN` query not yet sent, with `text` as its data (lines of
 * copyField values joined by tabs, each ending in a newline). The server's error rejects the promise. postgres.js 3 never settled the
 * stream of a failed COPY (porsager/postgres#1173); 4 does, but a COPY that hangs would hold a
 * connection and the request with it, so it is still bounded by `timeoutMs`.
 *
 * @example
 * await copyIn(tx`COPY logging.t (a, b) FROM STDIN`, `${copyField(a)}\t${copyField(b)}\n`);
 */
export async function copyIn(copy: postgres.PendingQuery<postgres.Row[]>, text: string, timeoutMs = 30_000): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CopyTimeoutError(`COPY did not finish within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([
      (async function copyInStream() {
        const stream = await copy.writable();
        await new Promise<void>((resolve, reject) => {
          stream.on('error', reject);
          stream.on('finish', resolve);
          stream.end(text);
        });
      })(),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
