/**
 * CPU seconds of processes, from /proc (Linux): for the benchmarks' account of where a run's CPU
 * went (the service's processes, Postgres, the benchmark's client) on a machine they share.
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

interface Stat {
  pid: number;
  comm: string;
  ppid: number;
  /** utime + stime, and cutime + cstime (children already reaped), in seconds. */
  own: number;
  children: number;
}

function stats(): Stat[] {
  const out: Stat[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let text: string;
    try {
      text = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const close = text.lastIndexOf(')');
    const comm = text.slice(text.indexOf('(') + 1, close);
    const f = text.slice(close + 2).split(' '); // f[0] is field 3 (state)
    out.push({
      pid: Number(entry),
      comm,
      ppid: Number(f[1]),
      own: (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND,
      children: (Number(f[13]) + Number(f[14])) / TICKS_PER_SECOND,
    });
  }
  return out;
}

/** A process and its live descendants, with what their exited children used. */
export function treeCpuSeconds(rootPid: number): number {
  const all = stats();
  const tree = new Set([rootPid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const s of all) if (!tree.has(s.pid) && tree.has(s.ppid)) grew = tree.add(s.pid) !== undefined;
  }
  return all.filter((s) => tree.has(s.pid)).reduce((sum, s) => sum + s.own + s.children, 0);
}

/** Every Postgres process on the machine (the benchmark's own database), with its exited backends. */
export function postgresCpuSeconds(): number {
  return stats()
    .filter((s) => s.comm === 'postgres')
    .reduce((sum, s) => sum + s.own + s.children, 0);
}

/** This process's CPU seconds. */
export function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}
