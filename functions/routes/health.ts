import { ping } from '../../shared/db/client';
import type { App } from '../types';

export interface HealthResponse {
  status: 'ok' | 'unavailable';
  database: 'ok' | 'unreachable';
}

/** GET /health: 200 when the database answers, 503 otherwise. */
export function registerHealth(app: App) {
  app.get('/health', async (c) => {
    try {
      await ping(c.get('sql'));
      return c.json<HealthResponse>({ status: 'ok', database: 'ok' });
    } catch {
      return c.json<HealthResponse>({ status: 'unavailable', database: 'unreachable' }, 503);
    }
  });
}
