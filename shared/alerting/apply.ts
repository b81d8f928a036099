/** Applies an alerting file (contact points, mute timings, rules) in one transaction, or nothing when any part is invalid. */
import type { z } from 'zod';
import type { Sql } from '../db/client';
import { RuleSchema, type Rule } from './rules';
import { AlertingFileSchema } from './schema';
import { existingNames, upsertContactPoint, upsertMuteTiming, upsertRule } from './sql';

export class InvalidAlertingFileError extends Error {
  override readonly name = 'InvalidAlertingFileError';
  constructor(readonly issues: { path: string; message: string }[]) {
    super(`invalid alerting file: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  }
}

const issuesOf = (error: z.ZodError, prefix: (string | number)[]) =>
  error.issues.map((i) => ({ path: [...prefix, ...i.path].join('.'), message: i.message }));

export async function applyAlertingFile(
  sql: Sql,
  input: unknown,
  by: string,
): Promise<{ contactPoints: number; muteTimings: number; rules: number }> {
  const file = AlertingFileSchema.safeParse(input);
  if (!file.success) throw new InvalidAlertingFileError(issuesOf(file.error, []));
  const rules: Rule[] = [];
  const issues: { path: string; message: string }[] = [];
  file.data.rules.forEach((r, i) => {
    const parsed = RuleSchema.safeParse(r);
    if (parsed.success) rules.push(parsed.data);
    else issues.push(...issuesOf(parsed.error, ['rules', i]));
  });
  const cps = new Set([
    ...file.data.contactPoints.map((c) => c.name),
    ...(await existingNames(
      sql,
      'contact_points',
      rules.flatMap((r) => r.contactPoints),
    )),
  ]);
  const mts = new Set([
    ...file.data.muteTimings.map((m) => m.name),
    ...(await existingNames(
      sql,
      'mute_timings',
      rules.flatMap((r) => r.muteTimings),
    )),
  ]);
  rules.forEach((r, i) => {
    r.contactPoints.forEach((n, k) => {
      if (!cps.has(n)) issues.push({ path: `rules.${i}.contactPoints.${k}`, message: `no contact point "${n}"` });
    });
    r.muteTimings.forEach((n, k) => {
      if (!mts.has(n)) issues.push({ path: `rules.${i}.muteTimings.${k}`, message: `no mute timing "${n}"` });
    });
  });
  if (issues.length) throw new InvalidAlertingFileError(issues);
  await sql.begin(async (tx) => {
    for (const cp of file.data.contactPoints) await upsertContactPoint(tx, cp);
    for (const m of file.data.muteTimings) await upsertMuteTiming(tx, m);
    for (const r of rules) await upsertRule(tx, r, by);
  });
  return { contactPoints: file.data.contactPoints.length, muteTimings: file.data.muteTimings.length, rules: rules.length };
}
