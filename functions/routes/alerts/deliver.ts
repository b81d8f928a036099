/**
 * POST /v1/alerts/deliver: QStash delivering an outbox row (signed; body `{ id }`). The row is
 * sent to its contact point: 200 once a receiver acknowledged it (or it failed for good: a
 * refusal retrying cannot fix), 503 to have QStash retry (429/5xx/unreachable, or another
 * attempt in flight). POST /v1/alerts/deliver/failed: QStash gave up; the row is marked failed.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { ApiError, errorResponses } from '../../../shared/api';
import { deliverNotification, markFailed } from '../../../shared/alerting';
import { DELIVER_FAILED_PATH, DELIVER_PATH } from '../../../shared/qstash';
import { signedBody } from '../../middleware/signed';
import type { App } from '../../types';

const DeliveredSchema = z
  .object({ status: z.enum(['delivered', 'failed', 'unknown']), error: z.string().nullable().optional() })
  .openapi('Delivery');
export type Delivery = z.infer<typeof DeliveredSchema>;
const errors = errorResponses('BAD_REQUEST', 'UNAUTHORIZED', 'DATABASE_UNAVAILABLE', 'REPLAY_DISABLED', 'DELIVERY_PENDING');
const signed = { headers: z.object({ 'upstash-signature': z.string() }) };

const deliverRoute = createRoute({
  method: 'post',
  path: DELIVER_PATH,
  description: 'QStash delivering a notification (Upstash-Signature required); 503 asks QStash to retry.',
  request: signed,
  responses: {
    200: { description: 'Delivered, or failed for good', content: { 'application/json': { schema: DeliveredSchema } } },
    ...errors,
  },
});
const failedRoute = createRoute({
  method: 'post',
  path: DELIVER_FAILED_PATH,
  description: "QStash's failure callback for a notification: marked failed in the ledger.",
  request: signed,
  responses: { 200: { description: 'Recorded', content: { 'application/json': { schema: z.object({ failed: z.string() }) } } }, ...errors },
});

function idOf(body: string): string {
  const id = (() => {
    try {
      return (JSON.parse(body) as { id?: unknown }).id;
    } catch {
      return undefined;
    }
  })();
  if (typeof id !== 'string' || !/^[0-9a-f-]{36}$/i.test(id))
    throw new ApiError('BAD_REQUEST', 'body must be {"id": "<notification uuid>"}');
  return id;
}

export function registerAlertDelivery(app: App) {
  app.openAPIRegistry.registerPath(deliverRoute);
  app.openAPIRegistry.registerPath(failedRoute);
  app.post(DELIVER_PATH, async (c) => {
    const id = idOf(await signedBody(c, DELIVER_PATH));
    const r = await deliverNotification(c.get('sql'), id);
    if (r.result === 'delivered' || r.result === 'failed') return c.json<Delivery>({ status: r.result, error: r.error });
    if (r.result === 'already') return c.json<Delivery>({ status: r.status });
    const why = r.result === 'busy' ? 'another attempt is in flight' : r.error;
    throw new ApiError('DELIVERY_PENDING', `not delivered yet (${why}); QStash retries`);
  });
  app.post(DELIVER_FAILED_PATH, async (c) => {
    const callback = JSON.parse(await signedBody(c, DELIVER_FAILED_PATH)) as { sourceBody?: string; status?: number; retried?: number };
    const source = callback.sourceBody ? atob(callback.sourceBody) : '';
    const id = idOf(source);
    await markFailed(c.get('sql'), id, `QStash gave up after ${callback.retried ?? '?'} retries; last answer ${callback.status ?? '?'}`);
    return c.json({ failed: id });
  });
}
