/**
 * The one error vocabulary of the API: a closed set of codes, each with its HTTP status, and one
 * envelope `{ code, message, requestId, issues? }` for every error answer. Routes document their
 * error answers from the same list (errorResponses), so the OpenAPI document names each code.
 */
import { z } from 'zod';
import { RecordIssueSchema, type RecordIssue } from './wire';

export const ERRORS = {
  BAD_REQUEST: { status: 400, description: 'The request is malformed: `issues` says which field and why' },
  UNAUTHORIZED: { status: 401, description: 'No valid key (or, for QStash deliveries, no valid signature)' },
  FORBIDDEN: { status: 403, description: 'The key lacks the scope, or may not act for that service' },
  NOT_FOUND: { status: 404, description: 'No such route, or no such rule, contact point, silence or mute timing' },
  PAYLOAD_TOO_LARGE: { status: 413, description: 'Too many records or bytes' },
  RATE_LIMITED: {
    status: 429,
    description:
      "The key's records or requests per second are spent: nothing was stored; retry after Retry-After (RateLimit-* headers say the limit)",
  },
  QUOTA_EXCEEDED: {
    status: 429,
    description:
      "The key's records for this UTC day are spent: nothing was stored; Retry-After points at the next UTC day, so do not retry before",
  },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, description: 'Not application/json, or an encoding other than gzip' },
  INTERNAL: { status: 500, description: 'An unexpected error; details are in the service logs' },
  DATABASE_UNAVAILABLE: {
    status: 503,
    description: 'The database (and, for ingest, the queue) cannot take the request now; retry after Retry-After',
  },
  REPLAY_DISABLED: { status: 503, description: 'The QStash signing keys are not configured' },
  DELIVERY_PENDING: {
    status: 503,
    description: 'The notification is not delivered yet (the receiver refused it for now, or another attempt is in flight); QStash retries',
  },
} as const satisfies Record<string, { status: number; description: string }>;

export type ErrorCode = keyof typeof ERRORS;
export const ERROR_CODES = Object.keys(ERRORS) as [ErrorCode, ...ErrorCode[]];
export type ErrorStatus = (typeof ERRORS)[ErrorCode]['status'];

export const ErrorBodySchema = z
  .object({
    code: z.enum(ERROR_CODES),
    message: z.string(),
    requestId: z.string(),
    issues: z.array(RecordIssueSchema).optional(),
  })
  .meta({ id: 'Error' });
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** An error the API answers with its own code and message (never a 500). */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: ErrorStatus;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly options: { issues?: RecordIssue[]; retryAfterSeconds?: number; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.status = ERRORS[code].status;
  }
}

/** Codes every route may answer, besides its own. */
const ALWAYS: ErrorCode[] = ['INTERNAL'];

/**
 * The OpenAPI error responses of a route, from the codes it may answer: one entry per status,
 * describing each code, with the envelope's `code` narrowed to them.
 *
 * @example
 * createRoute({ ..., responses: { 200: …, ...errorResponses('BAD_REQUEST', 'UNAUTHORIZED') } })
 */
export function errorResponses(...codes: ErrorCode[]) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of [...codes, ...ALWAYS]) byStatus.set(ERRORS[code].status, [...(byStatus.get(ERRORS[code].status) ?? []), code]);
  const responses: Record<number, { description: string; content: { 'application/json': { schema: z.ZodType } } }> = {};
  for (const [status, list] of byStatus) {
    responses[status] = {
      description: list.map((c) => `${c}: ${ERRORS[c].description}`).join('. '),
      content: { 'application/json': { schema: ErrorBodySchema.extend({ code: z.enum(list as [ErrorCode, ...ErrorCode[]]) }) } },
    };
  }
  return responses;
}

/** Seconds a client should wait before retrying a request the database could not take. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/** 503 DATABASE_UNAVAILABLE with Retry-After: the client keeps its batch and retries. */
export function databaseUnavailable(message = 'the database is unavailable; retry later'): ApiError {
  return new ApiError('DATABASE_UNAVAILABLE', message, { retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS });
}
