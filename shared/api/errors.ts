/**
 * The one error vocabulary of the API: a closed set of codes, each with its HTTP status, and one
 * envelope `{ code, message, requestId, issues? }` for every error answer.
 */
import type { RecordIssue } from './wire';

export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  DATABASE_UNAVAILABLE: 503,
  REPLAY_DISABLED: 503,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  requestId: string;
  issues?: RecordIssue[];
}

/** An error the API answers with its own code and message (never a 500). */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: (typeof ERROR_STATUS)[ErrorCode];

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly options: { issues?: RecordIssue[]; retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.status = ERROR_STATUS[code];
  }
}
