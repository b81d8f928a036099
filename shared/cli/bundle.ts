/**
 * npm run build:hosts: bundles the long-lived hosts' entries (functions/node.ts, functions/deno.ts)
 * into dist/node.mjs and dist/deno.mjs with esbuild, as wrangler bundles the Worker: one file with
 * its npm dependencies, the browser files of wrangler.toml's [[rules]] Text inlined as strings.
 * `start:node` and `start:deno` build first; a deployment copies the one file.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import type { PooledHostName } from '../dev/hosts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** wrangler.toml's [[rules]] Text globs: these files load as their text (also in the Node tests). */
export const TEXT_MODULES = /(uPlot\.iife\.min\.js|uPlot\.min\.css|swagger-ui-bundle\.js|swagger-ui\.css|\.browser\.js)$/;

const textModules: Plugin = {
  name: 'text-modules',
  setup(b) {
    b.onLoad({ filter: TEXT_MODULES }, async (args) => ({ contents: await readFile(args.path, 'utf8'), loader: 'text' }));
  },
};

/** Bundles one host's entry; returns the output file's path. */
export async function bundleHost(host: PooledHostName): Promise<string> {
  const outfile = path.join(root, 'dist', `${host}.mjs`);
  await build({
    entryPoints: [path.join(root, 'functions', `${host}.ts`)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: host === 'node' ? 'node20' : 'esnext',
    sourcemap: 'linked',
    logLevel: 'warning',
    plugins: [textModules],
    // Only postgres.js's workerd build imports it, which a Node bundle does not contain.
    external: ['cloudflare:sockets'],
    // Bundled CommonJS dependencies call require() for Node built-ins; an ESM bundle has none.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  });
  return outfile;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const host of ['node', 'deno'] as const) console.log(path.relative(root, await bundleHost(host)));
}
