/** Opaque page and stream cursors: base64url of [timestamp, uuid]. */

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const UUID = /^[0-9a-f-]{36}$/;

/** A cursor this API did not issue. */
export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
}

export function encodeToken(pair: [string, string]): string {
  return btoa(JSON.stringify(pair)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The [timestamp, uuid] a token carries; InvalidCursorError for anything else. */
export function decodeToken(s: string): [string, string] {
  try {
    const [ts, id] = JSON.parse(atob(s.replace(/-/g, '+').replace(/_/g, '/'))) as [string, string];
    if (typeof ts === 'string' && TIMESTAMP.test(ts) && !Number.isNaN(Date.parse(ts)) && typeof id === 'string' && UUID.test(id))
      return [ts, id];
  } catch {
    // not base64 or not JSON: refused below
  }
  throw new InvalidCursorError('not a cursor this API issued');
}
