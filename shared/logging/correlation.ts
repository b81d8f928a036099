/**
 * Correlation ids that follow the flow of control (across awaits, timers and promise chains) and
 * never leak between concurrent flows, on AsyncLocalStorage (Node, Workers with nodejs_compat,
 * Deno).
 *
 * @example
 * await withCorrelation('trade-12345', async () => {
 *   logger.info('Order placed');      // correlation_id = 'trade-12345'
 *   await fetchWithCorrelation(url);  // sends X-Correlation-ID: trade-12345
 * });
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export const CORRELATION_HEADER = 'X-Correlation-ID';

interface Holder {
  id: string | undefined;
}

const storage = new AsyncLocalStorage<Holder>();
// Outside any withCorrelation() scope, where the runtime cannot enter one (workerd has no enterWith).
const fallback: Holder = { id: undefined };

/** Runs `fn` with `id` as the correlation id of everything it does, sync or async. */
export function withCorrelation<T>(id: string, fn: () => T): T {
  return storage.run({ id }, fn);
}

/** The current correlation id, or undefined. */
export function getCorrelationId(): string | undefined {
  return (storage.getStore() ?? fallback).id;
}

/**
 * Sets the correlation id of the current flow from here on (as the seed's set_correlation_id).
 * Inside withCorrelation() it changes that scope only; outside, it starts a new scope for the
 * current async context where the runtime allows it (Node, Deno).
 */
export function setCorrelationId(id: string | undefined): void {
  const store = storage.getStore();
  if (store) {
    store.id = id;
    return;
  }
  const enter = (storage as { enterWith?: (h: Holder) => void }).enterWith;
  if (typeof enter === 'function') {
    try {
      enter.call(storage, { id });
      return;
    } catch {
      // runtime without enterWith support: fall through
    }
  }
  fallback.id = id;
}

export function newCorrelationId(): string {
  return crypto.randomUUID();
}

/**
 * `fetch` that forwards the current correlation id to the next service as `X-Correlation-ID`
 * (unless the request sets one itself).
 */
export function fetchWithCorrelation(input: Parameters<typeof fetch>[0], init: RequestInit = {}): Promise<Response> {
  const id = getCorrelationId();
  if (!id) return fetch(input, init);
  const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined));
  if (!headers.has(CORRELATION_HEADER)) headers.set(CORRELATION_HEADER, id);
  return fetch(input, { ...init, headers });
}

export interface CorrelationMiddlewareOptions {
  /** Header read from the request and echoed on the response. Default `X-Correlation-ID`. */
  header?: string;
  /** Makes an id when the request has none. Default `crypto.randomUUID()`. */
  generate?: () => string;
  /** Longest accepted incoming id (longer ones are replaced). Default 100, the column's size. */
  maxLength?: number;
}

/**
 * Hono middleware: takes the request's `X-Correlation-ID` (or makes one), runs the rest of the
 * request inside withCorrelation(), and echoes the id on the response. Typed structurally so the
 * logging library does not depend on Hono.
 *
 * @example
 * app.use(correlationMiddleware());
 */
export function correlationMiddleware(options: CorrelationMiddlewareOptions = {}) {
  const header = options.header ?? CORRELATION_HEADER;
  const generate = options.generate ?? newCorrelationId;
  const maxLength = options.maxLength ?? 100;
  return async (
    c: { req: { header(name: string): string | undefined }; header(name: string, value: string): void },
    next: () => Promise<void>,
  ): Promise<void> => {
    const incoming = c.req.header(header)?.trim();
    const id = incoming && incoming.length <= maxLength ? incoming : generate();
    await withCorrelation(id, async () => {
      await next();
    });
    c.header(header, id);
  };
}
