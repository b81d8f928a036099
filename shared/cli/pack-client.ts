/**
 * npm run pack:client: the client library as a package of its own, versioned as this repository,
 * installable with `npm install ./trading-log-ingest-<version>.tgz` and publishable as is. It holds
 * only the compiled library (`trading-log-ingest/logging`), the pino transport
 * (`trading-log-ingest/pino`, with pino-abstract-transport as an optional peer) and the level list
 * they import; no dependency of its own. Prints the tarball's path.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Builds the library and packs it; returns the tarball's path. */
export async function packClient(outDir = path.join(root, 'dist')): Promise<string> {
  const built = path.join(root, 'dist', 'client-build');
  const stage = path.join(root, 'dist', 'client-package');
  await Promise.all([rm(built, { recursive: true, force: true }), rm(stage, { recursive: true, force: true })]);
  await run(path.join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'shared/logging/tsconfig.build.json', '--outDir', built], { cwd: root });
  await mkdir(path.join(stage, 'api'), { recursive: true });
  await cp(path.join(built, 'logging'), path.join(stage, 'logging'), { recursive: true });
  // The level list at run time; the wire types for the declarations.
  for (const f of ['levels.js', 'levels.d.ts', 'wire.d.ts']) await cp(path.join(built, 'api', f), path.join(stage, 'api', f));
  const { version, license } = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { version: string; license?: string };
  const pkg = {
    name: 'trading-log-ingest',
    version,
    description: 'Structured logs and performance metrics for the trading system, shipped to the log-ingestion service.',
    type: 'module',
    ...(license ? { license } : {}),
    engines: { node: '>=20' },
    exports: {
      './logging': { types: './logging/index.d.ts', default: './logging/index.js' },
      './pino': { types: './logging/pino/index.d.ts', default: './logging/pino/index.js' },
    },
    files: ['logging', 'api', 'README.md'],
    peerDependencies: { 'pino-abstract-transport': '^2.0.0', zod: '^4.0.0' },
    peerDependenciesMeta: {
      'pino-abstract-transport': { optional: true },
      // Only the type declarations of the wire format refer to it.
      zod: { optional: true },
    },
  };
  await writeFile(path.join(stage, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  await cp(path.join(root, 'shared', 'logging', 'README.md'), path.join(stage, 'README.md'));
  await mkdir(outDir, { recursive: true });
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', outDir], { cwd: stage });
  await rm(built, { recursive: true, force: true });
  const [{ filename }] = JSON.parse(stdout) as [{ filename: string }];
  return path.join(outDir, filename);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  packClient().then(
    (file) => console.log(file),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
