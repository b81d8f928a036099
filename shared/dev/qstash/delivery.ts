/** The local QStash's deliveries: signed as QStash signs them, retried with backoff, dead-lettered. */
import { signRequest } from './signing';
import { failureCallbackBody } from './messages';
import { id, type DlqEntry, type Message } from './types';

export interface DeliveryOptions {
  currentSigningKey: string;
  retryDelayMs: (retried: number) => number;
  log: (line: string) => void;
}

export class Deliveries {
  readonly messages: Message[] = [];
  readonly dlq: DlqEntry[] = [];
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private inFlight = 0;
  private callbacksWaiting = 0;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: DeliveryOptions) {}

  /** Queues a message for delivery after `delayMs`. */
  add(m: Message, delayMs: number): void {
    this.messages.push(m);
    this.schedule(() => this.deliver(m), delayMs);
  }

  /** Resolves when no delivery is pending or in flight. */
  idle(): Promise<void> {
    return this.pending() === 0 ? Promise.resolve() : new Promise<void>((r) => this.idleWaiters.push(r));
  }

  stop(): void {
    this.stopped = true;
    this.timers.forEach(clearTimeout);
  }

  private pending(): number {
    return this.messages.filter((m) => m.state === 'pending').length + this.inFlight + this.callbacksWaiting;
  }

  private checkIdle(): void {
    if (this.pending() > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private schedule(fn: () => Promise<void>, delayMs: number): void {
    const t = setTimeout(
      () => {
        this.timers.delete(t);
        if (!this.stopped) void fn();
      },
      Math.max(0, delayMs),
    );
    this.timers.add(t);
  }

  private async signedPost(url: string, method: string, headers: Record<string, string>, body: Buffer): Promise<Response> {
    const signature = await signRequest({ key: this.options.currentSigningKey, url, body: new Uint8Array(body) });
    return fetch(url, {
      method,
      headers: { ...headers, 'Upstash-Signature': signature },
      body: method === 'GET' || method === 'HEAD' ? undefined : body,
      signal: AbortSignal.timeout(30_000),
    });
  }

  /** One attempt; true on a 2xx. The answer is kept on the message (the DLQ shows it). */
  private async attempt(m: Message): Promise<boolean> {
    try {
      const headers = {
        ...m.forward,
        'Upstash-Message-Id': m.messageId,
        'Upstash-Retried': String(m.retried),
        'Upstash-Caller-Ip': '127.0.0.1',
      };
      const res = await this.signedPost(m.url, m.method, headers, m.body);
      m.lastStatus = res.status;
      m.lastResponseBody = await res.text();
      m.lastResponseHeader = Object.fromEntries([...res.headers].map(([k, v]) => [k, [v]]));
      return res.status >= 200 && res.status < 300;
    } catch (error) {
      m.lastStatus = 0;
      m.lastResponseBody = String((error as Error).message);
      return false;
    }
  }

  private async deliver(m: Message): Promise<void> {
    this.inFlight++;
    m.state = 'delivered';
    const { log, retryDelayMs } = this.options;
    if (await this.attempt(m)) {
      log(`delivered ${m.messageId} to ${m.url} (retried ${m.retried})`);
    } else if (m.retried < m.maxRetries) {
      m.retried++;
      m.state = 'pending';
      const delay = retryDelayMs(m.retried);
      log(`delivery of ${m.messageId} failed (${m.lastStatus}); retry ${m.retried}/${m.maxRetries} in ${delay} ms`);
      this.schedule(() => this.deliver(m), delay);
    } else {
      m.state = 'failed';
      const entry = { dlqId: id('dlq'), message: m };
      this.dlq.push(entry);
      log(`${m.messageId} exhausted its ${m.maxRetries} retries: dead-lettered as ${entry.dlqId}`);
      if (m.failureCallback) await this.callFailureCallback(entry, 0);
    }
    this.inFlight--;
    this.checkIdle();
  }

  private async callFailureCallback(entry: DlqEntry, attempt: number): Promise<void> {
    const m = entry.message;
    this.inFlight++;
    let ok = false;
    try {
      const headers = { 'Content-Type': 'application/json', 'Upstash-Message-Id': id('msg'), 'Upstash-Retried': String(attempt) };
      ok = (await this.signedPost(m.failureCallback!, 'POST', headers, failureCallbackBody(entry))).ok;
    } catch {
      ok = false;
    }
    if (!ok && attempt < m.maxRetries) {
      this.callbacksWaiting++;
      this.schedule(
        async () => {
          this.callbacksWaiting--;
          await this.callFailureCallback(entry, attempt + 1);
        },
        this.options.retryDelayMs(attempt + 1),
      );
    }
    this.inFlight--;
    this.checkIdle();
  }
}
