/**
 * The seed's async queue handler: records queue in memory and ship in batches (at `batchSize`
 * records or every `flushIntervalMs`, whichever comes first) through a Sink. One request is in
 * flight at a time; what queues meanwhile goes in the next request, up to `maxBatchSize` records,
 * so a burst ships in few large requests. The queue is bounded:
 * when full, the oldest queued record is dropped and counted, and the count ships as a WARNING
 * record once there is room again. Retryable failures are retried with exponential backoff and
 * jitter, honouring Retry-After; permanent ones are reported on stderr, never thrown.
 */
import { now, toWire, type Entry, type LogEntry } from './entry.ts';
import type { Redactor } from './redact.ts';
import { toJsonSafe, type Sink } from './sink.ts';
import type { Spool } from './spool.ts';
import type { IngestRequest, RejectedRecord } from '../api/wire.ts';

export interface TransportOptions {
  sink: Sink;
  /** Records queued that start a delivery. Default 100. */
  batchSize?: number;
  /** Most records one request carries (what queued while the previous one was in flight). Default 1000, the server's limit. */
  maxBatchSize?: number;
  /** Longest a record waits before its batch ships. Default 10 000 ms. */
  flushIntervalMs?: number;
  /** Records held in memory at most (queued and in flight). Default 10 000. */
  maxQueueSize?: number;
  /** First retry delay; doubles per attempt up to maxRetryDelayMs, with full jitter. Default 500. */
  retryBaseMs?: number;
  maxRetryDelayMs?: number;
  /** Attempts for an HTTP 500 before the batch counts as permanently failed. Default 5. */
  maxAttemptsOn500?: number;
  /**
   * Where the records a full queue cannot hold go, a batch at a time, to be sent again oldest first
   * (Node, self-hosted Deno; see spool.ts). Without one, the oldest queued record is dropped.
   */
  spool?: Promise<Spool | undefined>;
  /** Censors secrets as records are serialised (for the sink and the stderr fallback). Default: none. */
  redact?: Redactor;
  /** Service named on the transport's own records (the dropped-records warning). */
  service: string;
  /** Where problems are reported (rate-limited). Default: console.error. */
  stderr?: (line: string) => void;
  /** Lines the stderr fallback writes per 10 s at most. Default 50. */
  stderrLinesPer10s?: number;
}

export interface TransportStats {
  queued: number;
  inFlight: number;
  shipped: number;
  /** Requests that delivered a batch. */
  batches: number;
  /** Records written to the spool (each is sent from there later). */
  spooled: number;
  /** Records in the spool now. */
  onDisk: number;
  dropped: number;
  rejected: number;
  failed: number;
}

export class Transport {
  private queue: Entry[] = [];
  private head = 0;
  private inFlight = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private pumping: Promise<void> | undefined;
  private droppedUnreported = 0;
  private wake: (() => void) | undefined;
  private closed = false;
  /** The last pump stopped with records left because its deadline came first. */
  private stalled = false;
  private readonly stats = { shipped: 0, batches: 0, spooled: 0, dropped: 0, rejected: 0, failed: 0 };
  private spool: Spool | undefined;
  /** Why the first record of the count not yet reported was dropped. */
  private dropReason = '';
  private readonly spillWrites = new Set<Promise<void>>();
  /** Settles once the spool is open (or known to be unavailable). */
  private readonly spoolReady: Promise<void> | undefined;
  private readonly reportedStatuses = new Set<string>();
  private readonly stderr: RateLimitedWriter;
  private readonly batchSize: number;
  private readonly maxBatchSize: number;
  private readonly flushIntervalMs: number;
  private readonly maxQueueSize: number;

  constructor(private readonly options: TransportOptions) {
    this.batchSize = options.batchSize ?? 100;
    this.maxBatchSize = Math.max(this.batchSize, options.maxBatchSize ?? 1000);
    this.flushIntervalMs = options.flushIntervalMs ?? 10_000;
    this.maxQueueSize = options.maxQueueSize ?? 10_000;
    this.stderr = new RateLimitedWriter(options.stderr ?? ((l) => console.error(l)), options.stderrLinesPer10s ?? 50);
    this.spoolReady = options.spool?.then(
      (spool) => {
        this.spool = spool;
        if (!spool?.size || this.closed) return;
        this.stderr.write(`logging: ${spool.records} records left in the spool (${spool.dir}) by an earlier run; sending them`);
        this.startPump(true);
      },
      (error: unknown) => this.stderr.write(`logging: no spool (${(error as Error)?.message}); a full queue drops its oldest records`),
    );
  }

  /** Queues a record. Never blocks, never throws. */
  push(entry: Entry): void {
    if (this.closed) {
      this.stderr.write(fallbackLine(entry.kind, toWire(entry as LogEntry, this.options.redact), 'logging is shut down'));
      return;
    }
    if (this.queue.length - this.head + this.inFlight >= this.maxQueueSize) {
      if (this.spool && this.queue.length > this.head) this.spill();
      else {
        if (this.queue.length > this.head) {
          this.head++; // drop the oldest queued record
          this.compact();
        }
        this.countDropped(1, `the queue was full (${this.maxQueueSize} records)`);
      }
    }
    this.queue.push(entry);
    const queued = this.queue.length - this.head;
    if (queued >= this.batchSize) this.startPump(false);
    else if (!this.timer) this.armTimer();
  }

  get size(): number {
    return this.queue.length - this.head + this.inFlight;
  }

  getStats(): TransportStats {
    return { queued: this.queue.length - this.head, inFlight: this.inFlight, onDisk: this.spool?.records ?? 0, ...this.stats };
  }

  /**
   * Moves the oldest queued records, a batch of them, to the spool. The write is asynchronous
   * while at most MAX_SPILL_WRITES are in flight; past that (the disk behind a burst) it blocks
   * for the one write, so that memory holds at most the queue and those batches, and a SIGKILL
   * loses no more.
   */
  private spill() {
    const batch = this.queue.slice(this.head, this.head + this.maxBatchSize);
    this.head += batch.length;
    this.compact();
    const n = batch.length;
    const json = toJsonSafe(this.request(batch));
    if (this.spillWrites.size >= MAX_SPILL_WRITES) {
      try {
        const dropped = this.spool!.writeSync(json, n);
        this.stats.spooled += n;
        if (dropped) this.countDropped(dropped, 'the spool was over its size cap (its oldest batches went)');
      } catch (error) {
        this.countDropped(n, `a spool write failed (${(error as Error)?.message})`);
      }
      return;
    }
    const write = this.spool!.write(json, n)
      .then(
        (dropped) => {
          this.stats.spooled += n;
          if (dropped) this.countDropped(dropped, 'the spool was over its size cap (its oldest batches went)');
        },
        (error: unknown) => this.countDropped(n, `a spool write failed (${(error as Error)?.message})`),
      )
      .finally(() => this.spillWrites.delete(write));
    this.spillWrites.add(write);
  }

  private countDropped(n: number, why: string) {
    if (this.droppedUnreported === 0) {
      this.dropReason = why;
      this.stderr.write(`logging: ${why}; the count will be reported`);
    }
    this.droppedUnreported += n;
    this.stats.dropped += n;
  }

  /**
   * Ships everything queued now, waiting out retries until `deadline` (epoch ms; default none).
   * Resolves when the queue is empty or the deadline has passed; never rejects.
   */
  async flush(deadline = Infinity): Promise<void> {
    this.clearTimer();
    if (this.spoolReady) await this.raceDeadline(this.spoolReady, deadline); // what an earlier run left counts too
    for (;;) {
      // Batches still being written to the spool are sent from there, after the older ones.
      if (this.spillWrites.size) await this.raceDeadline(Promise.all(this.spillWrites).then(noop), deadline);
      if (this.pumping) {
        this.wake?.(); // cut a retry wait short: flushing means now
        await this.raceDeadline(this.pumping, deadline);
        if (this.stalled || Date.now() >= deadline) return; // out of time, records kept for later
      }
      if (Date.now() >= deadline) return;
      if (this.queue.length - this.head === 0 && this.droppedUnreported === 0 && !this.spool?.size) return;
      this.startPump(true, deadline);
    }
  }

  /** Flushes within `timeoutMs`, then refuses further records (they go to stderr). */
  async close(timeoutMs = 5_000): Promise<void> {
    await this.flush(Date.now() + timeoutMs);
    this.closed = true;
    this.clearTimer();
    const left = this.size; // a delivery still in flight is not delivered either
    // What the deadline left in memory goes to the spool, for the next start to send.
    const spilled = this.spool ? this.queue.length - this.head : 0;
    while (this.spool && this.queue.length > this.head) this.spill();
    await Promise.all(this.spillWrites);
    if (left > 0)
      this.stderr.write(
        `logging: ${left} records not delivered before the shutdown deadline${spilled ? `; ${spilled} of them written to the spool (${this.spool!.dir}) for the next start` : ''}`,
      );
  }

  private startPump(partial: boolean, deadline = Infinity) {
    if (this.pumping) return;
    this.pumping = this.pump(partial, deadline).finally(() => {
      this.pumping = undefined;
      if (!this.closed && this.queue.length - this.head > 0 && !this.timer) this.armTimer();
    });
  }

  private async pump(partial: boolean, deadline: number): Promise<void> {
    this.stalled = false;
    for (;;) {
      this.reportDropped();
      if (this.spool?.size) {
        if (!(await this.sendSpooled(deadline))) {
          this.stalled = true;
          return;
        }
        continue;
      }
      const queued = this.queue.length - this.head;
      if (queued === 0 || (!partial && queued < this.batchSize)) return;
      const batch = this.queue.slice(this.head, this.head + this.maxBatchSize);
      this.head += batch.length;
      this.inFlight = batch.length;
      this.compact();
      let done = false;
      try {
        done = await this.deliver(batch, deadline);
      } finally {
        this.inFlight = 0;
        if (!done) {
          // Not delivered before the deadline: back to the front, in order, ids kept.
          this.queue.splice(this.head, 0, ...batch);
        }
      }
      if (!done) {
        this.stalled = true;
        return;
      }
    }
  }

  /** Sends the spool's oldest batch; true when it is settled (and removed), false at the deadline. */
  private async sendSpooled(deadline: number): Promise<boolean> {
    const spool = this.spool!;
    try {
      const oldest = await spool.oldest();
      if (!oldest) return true;
      if (!oldest.batch) {
        await spool.remove(oldest.name);
        this.countDropped(oldest.count, `spool file ${oldest.name} was unreadable`);
        return true;
      }
      const done = await this.send(oldest.batch, deadline);
      if (done) await spool.remove(oldest.name);
      return done;
    } catch (error) {
      // A spool that cannot be read or cleared is given up, not retried in a loop: a full queue drops again.
      this.spool = undefined;
      this.stderr.write(`logging: spool ${spool.dir} failed (${(error as Error)?.message}); no longer used`);
      return true;
    }
  }

  /** The wire request of a batch of entries (ids assigned once, secrets censored). */
  private request(batch: Entry[]): IngestRequest {
    const request: IngestRequest = { logs: [], metrics: [] };
    for (const e of batch) {
      if (e.kind === 'log') request.logs!.push(toWire(e, this.options.redact));
      else request.metrics!.push(toWire(e, this.options.redact));
    }
    if (request.logs!.length === 0) delete request.logs;
    if (request.metrics!.length === 0) delete request.metrics;
    return request;
  }

  /** True when the batch is settled (stored, or reported as permanently failed). */
  private deliver(batch: Entry[], deadline: number): Promise<boolean> {
    return this.send(this.request(batch), deadline);
  }

  /** Sends a request, retrying, splitting it on 413; true when settled, false when the deadline came first. */
  private async send(request: IngestRequest, deadline: number): Promise<boolean> {
    const count = (request.logs?.length ?? 0) + (request.metrics?.length ?? 0);
    for (let attempt = 1; ; attempt++) {
      let result: Awaited<ReturnType<Sink['send']>>;
      try {
        result = await this.options.sink.send(request);
      } catch (error) {
        result = { ok: false, retryable: true, reason: `sink failed: ${(error as Error)?.message ?? String(error)}` };
      }
      if (result.ok) {
        this.stats.batches++;
        this.stats.shipped += count - result.rejected.length;
        this.reportRejected(request, result.rejected);
        return true;
      }
      if (result.status === 413 && count > 1) {
        const [first, second] = halves(request);
        return (await this.send(first, deadline)) && (await this.send(second, deadline));
      }
      const permanent = !result.retryable || (result.status === 500 && attempt >= (this.options.maxAttemptsOn500 ?? 5));
      if (permanent) {
        this.stats.failed += count;
        const key = String(result.status ?? result.reason);
        if (!this.reportedStatuses.has(key)) {
          this.reportedStatuses.add(key);
          this.stderr.write(`logging: batch refused permanently (${result.reason}); its records follow on stderr`);
        }
        for (const [kind, records] of [
          ['log', request.logs],
          ['metric', request.metrics],
        ] as const)
          for (const r of records ?? []) this.stderr.write(fallbackLine(kind, r, result.reason));
        return true;
      }
      const base = this.options.retryBaseMs ?? 500;
      const cap = this.options.maxRetryDelayMs ?? 30_000;
      const backoff = Math.random() * Math.min(cap, base * 2 ** (attempt - 1));
      const delay = Math.max(backoff, result.retryAfterMs ?? 0);
      if (attempt === 1) this.stderr.write(`logging: delivery failed (${result.reason}); retrying with backoff`);
      if (Date.now() + delay >= deadline) return false;
      await this.sleep(delay);
      if (Date.now() >= deadline) return false;
    }
  }

  private reportDropped() {
    if (this.droppedUnreported === 0) return;
    if (this.queue.length - this.head + this.inFlight >= this.maxQueueSize) return;
    const dropped = this.droppedUnreported;
    this.droppedUnreported = 0;
    const warning: LogEntry = {
      kind: 'log',
      time: now(),
      service: this.options.service,
      level: 'WARNING',
      message: `logging dropped ${dropped} records: ${this.dropReason}`,
      data: { dropped, max_queue_size: this.maxQueueSize, reason: this.dropReason },
      correlationId: undefined,
      eventType: 'system',
    };
    this.queue.splice(this.head, 0, warning);
  }

  private reportRejected(request: IngestRequest, rejected: RejectedRecord[]) {
    if (rejected.length === 0) return;
    this.stats.rejected += rejected.length;
    for (const r of rejected) {
      const record = (r.kind === 'log' ? request.logs : request.metrics)?.[r.index] as
        | { id?: string; message?: string; operation?: string }
        | undefined;
      const what = record?.message ?? record?.operation ?? '';
      this.stderr.write(
        `logging: ${r.kind} ${record?.id ?? `#${r.index}`} rejected by the server: ${r.issues.map((i) => `${i.path || '(record)'}: ${i.message}`).join('; ')}${what ? ` — ${JSON.stringify(what).slice(0, 200)}` : ''}`,
      );
    }
  }

  private armTimer() {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.startPump(true);
    }, this.flushIntervalMs);
    (this.timer as { unref?: () => void }).unref?.();
  }

  private clearTimer() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private compact() {
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  /** A retry wait that flush() can cut short. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      (t as { unref?: () => void }).unref?.();
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }

  private async raceDeadline(p: Promise<void>, deadline: number): Promise<void> {
    if (deadline === Infinity) return p;
    let t: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([p, new Promise<void>((r) => (t = setTimeout(r, Math.max(0, deadline - Date.now()))))]);
    clearTimeout(t);
  }
}

function noop() {}

/** Spool writes in flight at most; see push(). */
const MAX_SPILL_WRITES = 2;

/** A request cut in two, half of its records in each (413: too large for the server). */
function halves(request: IngestRequest): [IngestRequest, IngestRequest] {
  const records = [
    ...(request.logs ?? []).map((r) => ['logs', r] as const),
    ...(request.metrics ?? []).map((r) => ['metrics', r] as const),
  ];
  const half = Math.ceil(records.length / 2);
  const build = (part: typeof records): IngestRequest => {
    const out: IngestRequest = {};
    for (const [kind, r] of part) ((out[kind] as unknown[] | undefined) ??= []).push(r);
    return out;
  };
  return [build(records.slice(0, half)), build(records.slice(half))];
}

/** A record that could not be shipped, as one JSON line for stderr. */
function fallbackLine(kind: 'log' | 'metric', wire: object, reason: string): string {
  try {
    return JSON.stringify({ undelivered: reason, kind, ...wire });
  } catch {
    return JSON.stringify({ undelivered: reason, kind, ...wire, data: { unserialisable: true } });
  }
}

/** Writes at most `perWindow` lines per 10 s, then one line saying how many it suppressed. */
export class RateLimitedWriter {
  private windowStart = 0;
  private count = 0;
  private suppressed = 0;

  constructor(
    private readonly out: (line: string) => void,
    private readonly perWindow: number,
  ) {}

  write(line: string): void {
    const t = Date.now();
    if (t - this.windowStart >= 10_000) {
      if (this.suppressed > 0) this.safeOut(`logging: ${this.suppressed} stderr lines suppressed (rate limit ${this.perWindow} per 10 s)`);
      this.windowStart = t;
      this.count = 0;
      this.suppressed = 0;
    }
    if (this.count < this.perWindow) {
      this.count++;
      this.safeOut(line);
    } else {
      this.suppressed++;
    }
  }

  private safeOut(line: string) {
    try {
      this.out(line);
    } catch {
      // stderr itself failed: there is nowhere left to report to, and logging must not throw
    }
  }
}
