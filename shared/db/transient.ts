/**
 * Whether a database error is the database's fault (unreachable, overloaded, shutting down,
 * read-only) rather than the batch's: the same batch may succeed later, so the client should keep
 * it and retry (and the service may queue it elsewhere).
 */
const TRANSIENT_SQLSTATE_CLASSES = ['08', '53', '57P']; // connection, insufficient resources, operator intervention
const TRANSIENT_SQLSTATES = new Set([
  '25006', // read_only_sql_transaction (failover, standby)
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available
  '57014', // query_canceled (statement timeout)
]);
const TRANSIENT_CLIENT_CODES = new Set([
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
]);
/**
 * postgres.js 4's timeouts: QUEUE_TIMEOUT (no connection was free within `queue_timeout`; the query
 * was never sent) and QUERY_TIMEOUT (`query_timeout` ran out and the query was canceled). Like a
 * statement timeout, they are the database being busy, not gone (see isConnectionLost).
 */
const TRANSIENT_TIMEOUT_CODES = new Set(['QUEUE_TIMEOUT', 'QUERY_TIMEOUT']);
const TRANSIENT_MESSAGES = /connect|network|socket|stream was cancelled|timed? ?out|refused|reset/i;

export function isTransientDbError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (TRANSIENT_CLIENT_CODES.has(code) || TRANSIENT_TIMEOUT_CODES.has(code) || TRANSIENT_SQLSTATES.has(code)) return true;
    if (/^[0-9A-Z]{5}$/.test(code)) return TRANSIENT_SQLSTATE_CLASSES.some((c) => code.startsWith(c));
  }
  // Socket failures inside workerd surface as plain errors without a code.
  return (error as { severity?: unknown }).severity === undefined && TRANSIENT_MESSAGES.test(error.message);
}

const CONNECTION_SQLSTATES = ['08', '57P01', '57P02', '57P03']; // connection exception, admin/crash shutdown, cannot connect now

/**
 * Whether the error means the database itself went away (down, restarting, unreachable), as
 * opposed to one statement failing (a timeout, a lock): a job stops rather than blame its step.
 */
export function isConnectionLost(error: unknown): boolean {
  if (!isTransientDbError(error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return true; // workerd's socket failures carry no code
  // A query timed out because the server did not even answer its cancel: the connection was closed.
  if (code === 'QUERY_TIMEOUT') return (error as { cause?: { code?: unknown } }).cause?.code === 'CANCEL_UNANSWERED';
  return TRANSIENT_CLIENT_CODES.has(code) || CONNECTION_SQLSTATES.some((c) => code.startsWith(c));
}
