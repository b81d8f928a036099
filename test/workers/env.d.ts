import type { Env as WorkerEnv } from '../../shared/env';

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {}
    interface GlobalProps {
      mainModule: typeof import('../../functions/worker');
    }
  }
}
