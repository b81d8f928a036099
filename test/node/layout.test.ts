/** The layout's promises that the linter does not check (the import rules are in .dependency-cruiser.cjs). */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../shared/dev/postgres';
import { SCHEDULES } from '../../shared/env';

const ROLE_NAMES = new Set(['index', 'sql', 'schema', 'types']);

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(projectRoot, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(ts|js|cjs|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts'))
    .map((e) => path.relative(projectRoot, path.join(e.parentPath, e.name)));
}

describe('layout', () => {
  it('no two source files under shared/ share a base name, except the role names inside feature folders', () => {
    const byName = new Map<string, string[]>();
    for (const file of sourceFiles('shared')) {
      const base = path.basename(file).replace(/\.[^.]+$/, '');
      if (!ROLE_NAMES.has(base)) byName.set(base, [...(byName.get(base) ?? []), file]);
    }
    expect([...byName.values()].filter((files) => files.length > 1)).toEqual([]);
  });

  it("wrangler.toml's cron triggers are the schedules the code dispatches on", () => {
    const toml = readFileSync(path.join(projectRoot, 'wrangler.toml'), 'utf8');
    const crons = /\[triggers\][^[]*crons\s*=\s*\[([^\]]*)\]/.exec(toml)?.[1];
    expect(crons, 'wrangler.toml has a [triggers] crons list').toBeDefined();
    const listed = [...crons!.matchAll(/"([^"]+)"/g)].map((m) => m[1]).sort();
    expect(listed).toEqual(Object.values(SCHEDULES).sort());
  });
});
