import type { Sql } from './client';
import { isConnectionLost } from './transient';

/** Where a read was answered from. */
export type ReadSource = 'replica' | 'primary';

/**
 * Runs a read on the replica so that incident queries do not compete with ingest on the primary;
 * when the replica cannot be reached (down, restarting, refusing connections), on the primary
 * instead, so reads keep working while a replica is away. Any other error is the caller's.
 * Without a replica (`replica` undefined) it reads the primary.
 *
 * @example
 * const { value, source } = await readPreferReplica(replica, primary, (sql) => searchLogs(sql, f, undefined, 100));
 */
export async function readPreferReplica<T>(
  replica: Sql | undefined,
  primary: Sql,
  read: (sql: Sql) => Promise<T>,
): Promise<{ value: T; source: ReadSource }> {
  if (!replica) return { value: await read(primary), source: 'primary' };
  try {
    return { value: await read(replica), source: 'replica' };
  } catch (error) {
    if (!isConnectionLost(error)) throw error;
    return { value: await read(primary), source: 'primary' };
  }
}
