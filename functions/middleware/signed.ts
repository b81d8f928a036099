import type { Context } from 'hono';
import { ApiError } from '../../shared/api';
import { publicBase, ReplayDisabledError, SignatureError, verifyQStashSignature } from '../../shared/qstash';
import type { AppEnv } from '../types';

const MAX_SIGNED_BYTES = 10 * 1024 * 1024;

/** The raw body, once QStash's signature on it is verified for this URL. */
export async function signedBody(c: Context<AppEnv>, path: string): Promise<string> {
  const settings = c.get('settings');
  const body = await c.req.raw.text();
  if (body.length > MAX_SIGNED_BYTES) throw new ApiError('PAYLOAD_TOO_LARGE', `signed body exceeds ${MAX_SIGNED_BYTES} bytes`);
  try {
    await verifyQStashSignature(settings, c.req.header('upstash-signature'), body, `${publicBase(settings, c.req.url)}${path}`);
  } catch (error) {
    if (error instanceof ReplayDisabledError) throw new ApiError('REPLAY_DISABLED', error.message);
    if (error instanceof SignatureError) throw new ApiError('UNAUTHORIZED', error.message);
    throw error;
  }
  return body;
}
