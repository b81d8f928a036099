/** Verifying what QStash delivers: its signature on the raw body, for this exact URL. */
import { Receiver } from '@upstash/qstash';
import type { Settings } from '../env';

/** The signing keys are not configured: every delivery is refused. */
export class ReplayDisabledError extends Error {
  override readonly name = 'ReplayDisabledError';
  constructor() {
    super('replay is disabled: QSTASH_CURRENT_SIGNING_KEY and QSTASH_NEXT_SIGNING_KEY are not configured');
  }
}

/** The request is not signed by QStash for this URL. */
export class SignatureError extends Error {
  override readonly name = 'SignatureError';
}

/**
 * Verifies `Upstash-Signature` on the raw body with the SDK's Receiver (current key, then next),
 * including that the token was made for this exact URL. Fails closed when the keys are unset
 * (ReplayDisabledError); a missing or bad signature is a SignatureError.
 */
export async function verifyQStashSignature(config: Settings, signature: string | undefined, body: string, url: string): Promise<void> {
  if (!config.QSTASH_CURRENT_SIGNING_KEY || !config.QSTASH_NEXT_SIGNING_KEY) {
    throw new ReplayDisabledError();
  }
  if (!signature) throw new SignatureError('missing Upstash-Signature header');
  const receiver = new Receiver({ currentSigningKey: config.QSTASH_CURRENT_SIGNING_KEY, nextSigningKey: config.QSTASH_NEXT_SIGNING_KEY });
  try {
    await receiver.verify({ signature, body, url, clockTolerance: 5 });
  } catch (error) {
    throw new SignatureError(`invalid Upstash-Signature: ${(error as Error).message}`, { cause: error });
  }
}
