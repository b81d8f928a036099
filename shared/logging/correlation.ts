/**
 * Correlation ids that follow the flow of control (across awaits, timers and promise chains) and
 * never leak between concurrent flows, on AsyncLocalStorage (Node, Workers with nodejs_compat,
 * Deno). W3C Trace Context is understood both ways: a request's `traceparent` makes its trace id
 * the correlation id, and a correlation id that is a trace id travels on as `traceparent`, so
 * OpenTelemetry services' spans and logs share the timeline of ours.
 *
 * @example
 * await withCorrelation('trade-12345', async () => {
 *   logger.info('Order placed');      // correlation_id = 'trade-12345'
 *   await fetchWithCorrelation(url);  // sends X-Correlation-ID: trade-12345
 * });
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export const CORRELATION_HEADER = 'X-Correlation-ID';
export const TRACEPARENT_HEADER = 'traceparent';
export const TRACESTATE_HEADER = 'tracestate';

/** The W3C trace context a request came with: its trace id is the correlation id. */
export interface TraceContext {
  traceId: string;
  /** The caller's span (parent-id), passed on unchanged: this library records no spans of its own. */
  parentId: string;
  flags: string;
  state?: string;
}

interface Holder {
  id: string | undefined;
  trace?: TraceContext;
}

const storage = new AsyncLocalStorage<Holder>();
// Outside any withCorrelation() scope, where the runtime cannot enter one (workerd has no enterWith).
const fallback: Holder = { id: undefined };

/** Runs `fn` with `id` as the correlation id of everything it does, sync or async. */
export function withCorrelation<T>(id: string, fn: () => T): T {
  return storage.run({ id }, fn);
}

/** Runs `fn` inside a W3C trace context: its trace id is the correlation id, and it travels on. */
export function withTraceContext<T>(trace: TraceContext, fn: () => T): T {
  return storage.run({ id: trace.traceId, trace }, fn);
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO = /^0+$/;

/**
 * Parses a `traceparent` header (W3C Trace Context level 1): undefined when it is absent or
 * invalid (version ff, all-zero ids, wrong lengths, or data after a version-00 header). Hex is
 * accepted in either case and returned lowercase, as OTLP ids are stored.
 */
export function parseTraceparent(header: string | undefined, tracestate?: string): TraceContext | undefined {
  const m = header ? TRACEPARENT.exec(header.trim().toLowerCase()) : null;
  if (!m) return undefined;
  const [, version, traceId, parentId, flags, rest] = m as unknown as [string, string, string, string, string, string?];
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (ZERO.test(traceId) || ZERO.test(parentId)) return undefined;
  const state = tracestate?.trim();
  return { traceId, parentId, flags, ...(state ? { state } : {}) };
}

const TRACE_ID = /^[0-9a-f]{32}$/;

/**
 * The `traceparent` (and `tracestate`) to send for the current flow: the incoming context passed
 * on, or, when the correlation id is itself a trace id (32 lowercase hex, not all zero), a new
 * context with a random parent-id and the sampled flag, so OpenTelemetry services downstream
 * record their part of it. Undefined for other correlation ids, which W3C cannot carry.
 */
export function currentTraceHeaders(): { traceparent: string; tracestate?: string } | undefined {
  const holder = storage.getStore() ?? fallback;
  const { id, trace } = holder;
  if (!id) return undefined;
  if (trace && trace.traceId === id) {
    const traceparent = `00-${trace.traceId}-${trace.parentId}-${trace.flags}`;
    return trace.state ? { traceparent, tracestate: trace.state } : { traceparent };
  }
  if (!TRACE_ID.test(id) || ZERO.test(id)) return undefined;
  const parent = new Uint8Array(8);
  crypto.getRandomValues(parent);
  parent[0]! |= 1; // never all zero
  const parentId = Array.from(parent, (b) => b.toString(16).padStart(2, '0')).join('');
  return { traceparent: `00-${id}-${parentId}-01` };
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
 * `fetch` that forwards the current correlation id to the next service as `X-Correlation-ID` and,
 * when it is a trace id, as W3C `traceparent` (see currentTraceHeaders); headers the request sets
 * itself are kept.
 */
export function fetchWithCorrelation(input: Parameters<typeof fetch>[0], init: RequestInit = {}): Promise<Response> {
  const id = getCorrelationId();
  if (!id) return fetch(input, init);
  const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined));
  if (!headers.has(CORRELATION_HEADER)) headers.set(CORRELATION_HEADER, id);
  const trace = headers.has(TRACEPARENT_HEADER) ? undefined : currentTraceHeaders();
  if (trace) {
    headers.set(TRACEPARENT_HEADER, trace.traceparent);
    if (trace.tracestate && !headers.has(TRACESTATE_HEADER)) headers.set(TRACESTATE_HEADER, trace.tracestate);
  }
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
 * Hono middleware: the request's correlation id is the trace id of a valid W3C `traceparent`, else
 * its `X-Correlation-ID`, else a new one; the rest of the request runs with it (and the trace
 * context, passed on by fetchWithCorrelation), and the id is echoed on the response. Typed
 * structurally so the logging library does not depend on Hono.
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
    const trace = parseTraceparent(c.req.header(TRACEPARENT_HEADER), c.req.header(TRACESTATE_HEADER));
    const incoming = c.req.header(header)?.trim();
    const id = trace?.traceId ?? (incoming && incoming.length <= maxLength ? incoming : generate());
    const run = async () => {
      await next();
    };
    await (trace ? withTraceContext(trace, run) : withCorrelation(id, run));
    c.header(header, id);
  };
}
