/**
 * Named leases (logging.job_leases): a job holds one while it runs, so two overlapping runs never
 * both do the work; a holder that dies frees it when it expires.
 */
import type { Sql, TransactionSql } from './client';

export interface Lease {
  name: string;
  holder: string;
  ttlSeconds: number;
}

export class LeaseLostError extends Error {
  constructor(readonly lease: string) {
    super(`lease ${lease} lost to another run`);
    this.name = 'LeaseLostError';
  }
}

/** Whether `lease` is still held, without renewing it. */
export async function holdsLease(tx: TransactionSql, lease: Lease): Promise<boolean> {
  const rows = await tx`SELECT 1 FROM logging.job_leases WHERE name = ${lease.name} AND holder = ${lease.holder} AND expires_at >= now()`;
  return rows.length === 1;
}

/** Takes the named lease for `ttlSeconds` unless a live holder has it. */
export async function acquireLease(sql: Sql, lease: Lease): Promise<boolean> {
  const rows = await sql`
    INSERT INTO logging.job_leases (name, holder, expires_at) VALUES (${lease.name}, ${lease.holder}, now() + make_interval(secs => ${lease.ttlSeconds}))
    ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
    WHERE logging.job_leases.expires_at < now() OR logging.job_leases.holder = EXCLUDED.holder
    RETURNING holder`;
  return rows.length === 1;
}

/** Extends a held lease by its ttl; false when it was lost. */
export async function renewLease(tx: TransactionSql, lease: Lease): Promise<boolean> {
  const rows = await tx`
    UPDATE logging.job_leases SET expires_at = now() + make_interval(secs => ${lease.ttlSeconds})
    WHERE name = ${lease.name} AND holder = ${lease.holder} AND expires_at >= now() RETURNING 1`;
  return rows.length === 1;
}

export async function releaseLease(sql: Sql | TransactionSql, lease: Lease): Promise<void> {
  await sql`DELETE FROM logging.job_leases WHERE name = ${lease.name} AND holder = ${lease.holder}`;
}
