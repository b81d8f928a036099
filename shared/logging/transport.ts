/**
 * The seed's async queue handler: records queue in memory and ship in batches (at `batchSize`
 * records or every `flushIntervalMs`, whichever comes first) through a Sink. The queue is bounded:
 * when full, the oldest queued record is dropped and counted, and the count ships as a WARNING
 * record once there is room again. Retryable failures are retried with exponential backoff and
 * jitter, honouring Retry-After; permanent ones are reported on stderr, never thrown.
 */
import { now, toWire, type Entry, type LogEntry, type MetricEntry } from './entry.ts';
import type { Sink } from './sink.ts';
import type { IngestRequest, RejectedRecord } from '../api/wire.ts';

export interface TransportOptions {
  sink: Sink;
  /** Records per batch. Default 100. */
  batchSize?: number;
  /** Longest a record waits before its batch ships. Default 10 000 ms. */
  flushIntervalMs?: number;
  /** Records held in memory at most (queued and in flight). Default 10 000. */
  maxQueueSize?: number;
  /** First retry delay; doubles per attempt up to maxRetryDelayMs, with full jitter. Default 500. */
  retryBaseMs?: number;
  maxRetryDelayMs?: number;
  /** Attempts for an HTTP 500 before the batch counts as permanently failed. Default 5. */
  maxAttemptsOn500?: number;
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
  private readonly stats = { shipped: 0, dropped: 0, rejected: 0, failed: 0 };
  private readonly reportedStatuses = new Set<string>();
  private readonly stderr: RateLimitedWriter;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly maxQueueSize: number;

  constructor(private readonly options: TransportOptions) {
    this.batchSize = options.batchSize ?? 100;
    this.flushIntervalMs = options.flushIntervalMs ?? 10_000;
    this.maxQueueSize = options.maxQueueSize ?? 10_000;
    this.stderr = new RateLimitedWriter(options.stderr ?? ((l) => console.error(l)), options.stderrLinesPer10s ?? 50);
  }

  /** Queues a record. Never blocks, never throws. */
  push(entry: Entry): void {
    if (this.closed) {
      this.stderr.write(fallbackLine(entry, 'logging is shut down'));
      return;
    }
    if (this.queue.length - this.head + this.inFlight >= this.maxQueueSize) {
      if (this.queue.length > this.head) {
        this.head++; // drop the oldest queued record
        this.compact();
      }
      if (this.droppedUnreported === 0)
        this.stderr.write(`logging: queue full (${this.maxQueueSize} records); dropping the oldest, the count will be reported`);
      this.droppedUnreported++;
      this.stats.dropped++;
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
    return { queued: this.queue.length - this.head, inFlight: this.inFlight, ...this.stats };
  }

  /**
   * Ships everything queued now, waiting out retries until `deadline` (epoch ms; default none).
   * Resolves when the queue is empty or the deadline has passed; never rejects.
   */
  async flush(deadline = Infinity): Promise<void> {
    this.clearTimer();
    for (;;) {
      if (this.pumping) {
        this.wake?.(); // cut a retry wait short: flushing means now
        await this.raceDeadline(this.pumping, deadline);
        if (this.stalled || Date.now() >= deadline) return; // out of time, records kept for later
      }
      if (Date.now() >= deadline) return;
      if (this.queue.length - this.head === 0 && this.droppedUnreported === 0) return;
      this.startPump(true, deadline);
    }
  }

  /** Flushes within `timeoutMs`, then refuses further records (they go to stderr). */
  async close(timeoutMs = 5_000): Promise<void> {
    await this.flush(Date.now() + timeoutMs);
    this.closed = true;
    this.clearTimer();
    const left = this.size; // a delivery still in flight is not delivered either
    if (left > 0) this.stderr.write(`logging: ${left} records not delivered before the shutdown deadline`);
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
      const queued = this.queue.length - this.head;
      if (queued === 0 || (!partial && queued < this.batchSize)) return;
      const batch = this.queue.slice(this.head, this.head + this.batchSize);
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

  /** True when the batch is settled (stored, or reported as permanently failed). */
  private async deliver(batch: Entry[], deadline: number): Promise<boolean> {
    const request: IngestRequest = { logs: [], metrics: [] };
    for (const e of batch) {
      if (e.kind === 'log') request.logs!.push(toWire(e));
      else request.metrics!.push(toWire(e));
    }
    if (request.logs!.length === 0) delete request.logs;
    if (request.metrics!.length === 0) delete request.metrics;

    for (let attempt = 1; ; attempt++) {
      let result: Awaited<ReturnType<Sink['send']>>;
      try {
        result = await this.options.sink.send(request);
      } catch (error) {
        result = { ok: false, retryable: true, reason: `sink failed: ${(error as Error)?.message ?? String(error)}` };
      }
      if (result.ok) {
        this.stats.shipped += batch.length - result.rejected.length;
        this.reportRejected(request, result.rejected);
        return true;
      }
      if (result.status === 413 && batch.length > 1) {
        const half = Math.ceil(batch.length / 2);
        return (await this.deliver(batch.slice(0, half), deadline)) && (await this.deliver(batch.slice(half), deadline));
      }
      const permanent = !result.retryable || (result.status === 500 && attempt >= (this.options.maxAttemptsOn500 ?? 5));
      if (permanent) {
        this.stats.failed += batch.length;
        const key = String(result.status ?? result.reason);
        if (!this.reportedStatuses.has(key)) {
          this.reportedStatuses.add(key);
          this.stderr.write(`logging: batch refused permanently (${result.reason}); its records follow on stderr`);
        }
        for (const e of batch) this.stderr.write(fallbackLine(e, result.reason));
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
      message: `logging dropped ${dropped} records: the queue was full (${this.maxQueueSize} records)`,
      data: { dropped, max_queue_size: this.maxQueueSize },
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

/** A record that could not be shipped, as one JSON line for stderr. */
function fallbackLine(entry: Entry, reason: string): string {
  const wire = entry.kind === 'log' ? toWire(entry as LogEntry) : toWire(entry as MetricEntry);
  return JSON.stringify({ undelivered: reason, kind: entry.kind, ...wire });
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
