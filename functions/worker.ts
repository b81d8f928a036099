import { createApp } from './app';
import { runScheduled } from './scheduled';
import { parseEnv, type Env } from '../shared/env';

const app = createApp();

export default {
  fetch: app.fetch,
  scheduled(_controller, env, ctx) {
    ctx.waitUntil(runScheduled(parseEnv(env)));
  },
} satisfies ExportedHandler<Env>;
