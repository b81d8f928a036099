import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export default defineConfig({
  test: {
    root,
    globalSetup: ['test/setup/global.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: path.join(root, 'wrangler.toml') },
            miniflare: {
              hyperdrives: { HYPERDRIVE: inject('databaseUrl') },
              // The official dev server's signing keys; the base URL the tests' requests use.
              bindings: {
                QSTASH_CURRENT_SIGNING_KEY: 'sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r',
                QSTASH_NEXT_SIGNING_KEY: 'sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs',
                PUBLIC_URL: 'http://logs.test',
              },
            },
          })),
        ],
        test: { root, name: 'workers', include: ['test/workers/**/*.test.ts'] },
      },
      {
        extends: true,
        test: { root, name: 'node', include: ['test/node/**/*.test.ts'], pool: 'forks' },
      },
    ],
  },
});
