/**
 * One delivery attempt of an outbox row, as QStash calls it: claimed (two deliveries of one
 * message never send at once), rendered and signed afresh, sent; a 2xx marks it delivered,
 * 429/5xx or a network error leaves it for QStash to retry, any other answer fails it for good.
 */
import type { Sql } from '../db/client';
import type { Notification } from './notify';
import { render } from './render';
import { claimNotification, finishAttempt, getContactPoint } from './sql';

export type DeliveryResult =
  | { result: 'delivered' | 'failed'; httpStatus: number | null; error: string | null }
  | { result: 'retry'; httpStatus: number | null; error: string }
  | { result: 'already'; status: 'delivered' | 'failed' | 'unknown' }
  | { result: 'busy' };

export const DELIVERY_TIMEOUT_MS = 10_000;

function retryable(status: number): boolean {
  return status === 429 || status === 408 || status >= 500;
}

async function send(requests: Awaited<ReturnType<typeof render>>, fetcher: typeof fetch) {
  for (const r of requests) {
    let res: Response;
    try {
      res = await fetcher(r.url, { method: 'POST', headers: r.headers, body: r.body, signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS) });
    } catch (error) {
      return { result: 'retry' as const, httpStatus: null, error: `request failed: ${(error as Error).message}` };
    }
    const text = (await res.text().catch(() => '')).slice(0, 500);
    if (res.ok) continue;
    const error = `receiver answered ${res.status}${text ? `: ${text}` : ''}`;
    return { result: retryable(res.status) ? ('retry' as const) : ('failed' as const), httpStatus: res.status, error };
  }
  return { result: 'delivered' as const, httpStatus: 200, error: null };
}

export async function deliverNotification(sql: Sql, id: string, now = new Date(), fetcher: typeof fetch = fetch): Promise<DeliveryResult> {
  const claim = await claimNotification(sql, id, Math.ceil(DELIVERY_TIMEOUT_MS / 1000) * 3);
  if ('status' in claim) return claim.status === 'busy' ? { result: 'busy' } : { result: 'already', status: claim.status };
  const row = claim.claimed;
  const cp = await getContactPoint(sql, row.contact_point);
  const outcome = cp
    ? await send(await render(cp, row.payload as Notification, row.id, now), fetcher)
    : { result: 'failed' as const, httpStatus: null, error: `contact point "${row.contact_point}" no longer exists` };
  await finishAttempt(sql, id, outcome);
  return outcome;
}
