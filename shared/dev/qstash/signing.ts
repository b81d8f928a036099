/**
 * QStash's request signature, exactly as QStash makes it: an HS256 JWT in `Upstash-Signature`
 * with iss "Upstash", sub = the destination URL, iat/nbf = now, exp = now + 5 min, a random jti,
 * and body = base64url(sha-256(raw body)). The SDK's Receiver verifies it.
 */
import { base64url, SignJWT } from 'jose';

/** The official QStash dev server's fixed credentials (also in @upstash/qstash's dev mode). */
export const DEV_CREDENTIALS = {
  token: 'eyJVc2VySUQiOiJkZWZhdWx0VXNlciIsIlBhc3N3b3JkIjoiZGVmYXVsdFBhc3N3b3JkIn0=',
  currentSigningKey: 'sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r',
  nextSigningKey: 'sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs',
} as const;

export async function bodyHash(body: string | Uint8Array): Promise<string> {
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  return base64url.encode(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)));
}

export interface SignOptions {
  key: string;
  url: string;
  body: string | Uint8Array;
  /** Seconds since the epoch. Default: now. */
  now?: number;
  /** Token lifetime in seconds. Default 300. */
  ttlSeconds?: number;
  /** Overrides, for tests of refusals (e.g. a token not yet valid). */
  claims?: Record<string, unknown>;
}

export async function signRequest(options: SignOptions): Promise<string> {
  const now = options.now ?? Math.floor(Date.now() / 1000);
  return new SignJWT({ body: await bodyHash(options.body), ...options.claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer('Upstash')
    .setSubject(options.url)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + (options.ttlSeconds ?? 300))
    .setJti(`jwt_${crypto.randomUUID().replaceAll('-', '')}`)
    .sign(new TextEncoder().encode(options.key));
}
