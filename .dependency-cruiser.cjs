/**
 * The import rules of the layout (README, "Layout"), checked by `npm run lint`.
 * Features are the folders of shared/ that hold one capability; infrastructure (api, db, qstash)
 * imports none of them; dev tooling is imported only by the npm scripts and the tests.
 */
const FEATURES = '(ingest|query|retention|alerting|ratelimit|otlp)';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'shared-not-to-functions',
      comment: 'Imports flow one way: functions → shared.',
      severity: 'error',
      from: { path: '^shared/' },
      to: { path: '^functions/' },
    },
    {
      name: 'dev-only-from-cli-and-tests',
      comment: 'shared/dev (local QStash, embedded Postgres, the wrangler launcher) is for npm scripts and tests only.',
      severity: 'error',
      from: { path: '^(functions|shared)/', pathNot: '^shared/(cli|dev)/' },
      to: { path: '^shared/dev/' },
    },
    {
      name: 'infrastructure-imports-no-feature',
      comment: 'api, db and qstash import no feature.',
      severity: 'error',
      from: { path: '^shared/(api|db|qstash)/' },
      to: { path: `^shared/${FEATURES}/` },
    },
    {
      name: 'features-through-their-index',
      comment: 'Another feature is reached through its public entry (its index.ts), never its internals.',
      severity: 'error',
      from: { path: '^(functions|shared)/([^/]+)/' },
      to: { path: `^shared/${FEATURES}/`, pathNot: ['^shared/$2/', `^shared/${FEATURES}/index\\.ts$`] },
    },
    {
      name: 'logging-is-self-contained',
      comment: 'The client library imports nothing outside itself but the wire contract (its types and the level list).',
      severity: 'error',
      from: { path: '^shared/logging/' },
      to: { path: '^(shared|functions)/', pathNot: ['^shared/logging/', '^shared/api/(wire|levels)\\.ts$'] },
    },
    {
      name: 'logging-no-packages',
      comment: 'The client library ships without dependencies (node: built-ins only; zod only through the wire types).',
      severity: 'error',
      from: { path: '^shared/logging/', pathNot: '^shared/logging/pino/' },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'logging-pino-only-its-peer',
      comment: 'The pino transport (its own subpath) adds one package, pino-abstract-transport, its optional peer.',
      severity: 'error',
      from: { path: '^shared/logging/pino/' },
      to: {
        dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer'],
        dependencyTypesNot: ['type-only'],
        pathNot: 'node_modules/pino-abstract-transport/',
      },
    },
    {
      name: 'logging-core-without-pino',
      comment: 'The core library never loads the pino transport: a service that does not use pino does not need its peer.',
      severity: 'error',
      from: { path: '^shared/logging/', pathNot: '^shared/logging/pino/' },
      to: { path: '^shared/logging/pino/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: { path: '^(functions|shared)/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.cjs', '.mjs', '.d.ts'] },
  },
};
