/** The local QStash's messages and options. */

export interface LocalQStashOptions {
  /** Default 0 (any free port). */
  port?: number;
  token?: string;
  currentSigningKey?: string;
  nextSigningKey?: string;
  /** Delay before retry number `retried` (1-based). Default: 1 s × 2^(retried-1), at most 30 s. */
  retryDelayMs?: (retried: number) => number;
  /** Largest message body accepted. Default 1 MiB (QStash's free-tier limit). */
  maxMessageBytes?: number;
  /** How long a deduplication id is remembered. Default 10 min, as QStash. */
  deduplicationWindowMs?: number;
  log?: (line: string) => void;
}

export interface Message {
  messageId: string;
  url: string;
  method: string;
  header: Record<string, string[]>;
  forward: Record<string, string>;
  body: Buffer;
  maxRetries: number;
  retried: number;
  notBefore: number;
  createdAt: number;
  failureCallback?: string;
  deduplicationKey?: string;
  state: 'pending' | 'delivered' | 'failed';
  lastStatus?: number;
  lastResponseBody?: string;
  lastResponseHeader?: Record<string, string[]>;
}

export interface DlqEntry {
  dlqId: string;
  message: Message;
}

export interface LocalQStash {
  url: string;
  /** Every message published, in order. */
  messages: Message[];
  dlq: DlqEntry[];
  /** Resolves when no delivery is pending or in flight. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export const id = (prefix: string) => `${prefix}_${crypto.randomUUID().replaceAll('-', '')}`;
