/**
 * The audit trail: who (a key id, or `cli:<user>`) did what to which key, alert rule, contact point
 * or silence, when. Each is a system_logs record with event_type `audit` (which clients may not
 * send), kept as long as trading logs and read through the query API (`event_type=audit`).
 */
import type { Sql } from '../db/client';
import { insertBatch } from '../ingest';

export const AUDIT_SERVICE = 'log_ingest';

export interface AuditEntry {
  /** Who: the API key's id, or `cli:<user>` for the command line. */
  actor: string;
  /** What: `key.created`, `key.rotated`, `key.revoked`, `key.expired`, `alerting.<method> <path>`, … */
  action: string;
  /** Which: the id acted on, when there is one. */
  target?: string;
  details?: Record<string, unknown>;
}

/** Writes one audit record. Errors go to the caller: an action whose record cannot be written should say so. */
export async function audit(sql: Sql, entry: AuditEntry, now = new Date()): Promise<void> {
  await insertBatch(
    sql,
    [
      {
        id: crypto.randomUUID(),
        timestamp: now.toISOString(),
        service: AUDIT_SERVICE,
        level: 'INFO',
        message: `${entry.action}${entry.target ? ` ${entry.target}` : ''} by ${entry.actor}`,
        data: { actor: entry.actor, action: entry.action, ...(entry.target ? { target: entry.target } : {}), ...entry.details },
        correlation_id: null,
        event_type: 'audit',
      },
    ],
    [],
  );
}
