import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { readFileSync } from 'node:fs';
import { defineConfig, type Plugin } from 'vitest/config';
import { TEXT_MODULES } from '../shared/cli/bundle.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** wrangler.toml's [[rules]] Text globs, for the app imported in Node: those files load as strings. */
const textModules: Plugin = {
  name: 'text-modules',
  enforce: 'pre',
  load(id) {
    if (TEXT_MODULES.test(id)) return `export default ${JSON.stringify(readFileSync(id, 'utf8'))};`;
  },
};

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
        plugins: [textModules],
        test: {
          root,
          name: 'node',
          include: ['test/node/**/*.test.ts'],
          exclude: ['test/node/alerting/**', 'test/node/hosts.test.ts'],
          pool: 'forks',
        },
      },
      {
        // After the others (groupOrder): these start their own Postgres, `wrangler dev` and the
        // other hosts, and on two cores their load would skew the timing assertions of the
        // retention tests.
        extends: true,
        plugins: [textModules],
        test: {
          root,
          name: 'processes',
          include: ['test/node/alerting/**/*.test.ts', 'test/node/hosts.test.ts'],
          pool: 'forks',
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
