import type { IngestRequest, RejectedRecord } from '../../../shared/api/wire';
import type { SendResult, Sink } from '../../../shared/logging';
import { toJsonSafe } from '../../../shared/logging/sink';

/** A sink that records what it is sent (serialised as HttpSink does) and answers from a script (ok by default). */
export class RecordingSink implements Sink {
  batches: IngestRequest[] = [];
  script: (SendResult | (() => SendResult))[] = [];
  rejectWith: RejectedRecord[] = [];

  async send(batch: IngestRequest): Promise<SendResult> {
    const next = this.script.shift();
    const result = typeof next === 'function' ? next() : next;
    if (result && !result.ok) return result;
    this.batches.push(JSON.parse(toJsonSafe(batch)) as IngestRequest);
    return result ?? { ok: true, rejected: this.rejectWith };
  }

  get logs() {
    return this.batches.flatMap((b) => b.logs ?? []);
  }

  get metrics() {
    return this.batches.flatMap((b) => b.metrics ?? []);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
