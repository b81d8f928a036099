/**
 * Alert rules as the API and the CLI accept them: one zod schema per kind, strict (an unknown
 * field is an error naming it), durations written as `30s`, `5m`, `1h`, `1d`.
 */
import { z } from 'zod';
import { LevelSchema } from '../api';

const DURATION = /^(\d+)(s|m|h|d)$/;
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;

/** `5m` → 300. */
export function durationSeconds(d: string): number {
  const m = DURATION.exec(d);
  if (!m) throw new Error(`not a duration: ${d}`);
  return Number(m[1]) * UNIT_SECONDS[m[2] as keyof typeof UNIT_SECONDS];
}

/** A duration of whole minutes between `min` and `max` (windows are aligned to the minute). */
function minutes(min: string, max: string) {
  return z
    .string()
    .regex(DURATION, 'a duration such as "5m", "1h" or "1d"')
    .refine((d) => !DURATION.test(d) || durationSeconds(d) % 60 === 0, 'whole minutes only')
    .refine(
      (d) => !DURATION.test(d) || (durationSeconds(d) >= durationSeconds(min) && durationSeconds(d) <= durationSeconds(max)),
      `between ${min} and ${max}`,
    );
}

export const NameSchema = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,99}$/, 'lowercase letters, digits, "_", "." or "-" (1-100)');

/** Warning and critical thresholds; a recovery threshold keeps an instance active until the value is back past it (hysteresis). */
const ThresholdsSchema = z
  .object({
    warning: z.number().finite().optional(),
    critical: z.number().finite().optional(),
    warningRecovery: z.number().finite().optional(),
    criticalRecovery: z.number().finite().optional(),
  })
  .strict();
export type Thresholds = z.infer<typeof ThresholdsSchema>;

const GROUP_BY = ['service', 'operation', 'event_type'] as const;
export type GroupField = (typeof GROUP_BY)[number];

const LogFilterSchema = z
  .object({
    service: z.string().min(1).max(50).optional(),
    level: LevelSchema.optional().describe('minimum level'),
    event_type: z.string().min(1).max(50).optional(),
    q: z.string().min(1).max(200).optional(),
    data: z.record(z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/), z.union([z.string(), z.number(), z.boolean()])).optional(),
  })
  .strict();
export type RuleLogFilter = z.infer<typeof LogFilterSchema>;

const MetricFilterSchema = z
  .object({ service: z.string().min(1).max(50).optional(), operation: z.string().min(1).max(100).optional() })
  .strict();

export const TimeZoneSchema = z.string().refine(validTimeZone, 'an IANA time zone such as "America/New_York"');

/** Trading hours: the rule is evaluated only inside them (days 1 = Monday … 7 = Sunday). */
export const ScheduleSchema = z
  .object({
    timezone: TimeZoneSchema,
    days: z.array(z.number().int().min(1).max(7)).min(1).default([1, 2, 3, 4, 5]),
    start: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM'),
    end: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'HH:MM'),
  })
  .strict();
export type Schedule = z.infer<typeof ScheduleSchema>;

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const common = {
  name: NameSchema,
  description: z.string().max(1000).optional(),
  enabled: z.boolean().default(true),
  /** How long the condition must hold before the instance fires (Pending until then). */
  for: minutes('0m', '1d').default('0m'),
  /** How long an instance keeps firing after the condition clears (Recovering until then). */
  keepFiringFor: minutes('0m', '1d').default('0m'),
  groupBy: z.array(z.enum(GROUP_BY)).max(3).default([]),
  /** Per-group thresholds: the first override whose labels all match replaces the rule's thresholds. */
  overrides: z
    .array(z.object({ match: z.partialRecord(z.enum(GROUP_BY), z.string()), thresholds: ThresholdsSchema }).strict())
    .max(100)
    .default([]),
  contactPoints: z.array(NameSchema).max(10).default([]),
  /** A firing instance is notified again after this long. */
  repeatInterval: minutes('1m', '7d').default('4h'),
  /** After a notification about the rule, further changes wait this long and go out together. */
  groupInterval: minutes('0m', '1d').default('5m'),
  muteTimings: z.array(NameSchema).max(10).default([]),
  noData: z.enum(['ok', 'nodata', 'alerting', 'keep']).default('ok'),
  onError: z.enum(['error', 'alerting', 'keep']).default('error'),
  labels: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,49}$/), z.string().max(200)).default({}),
  summary: z.string().max(500).optional(),
};

const LogThresholdRule = z
  .object({
    ...common,
    kind: z.literal('log_threshold'),
    filter: LogFilterSchema.default({}),
    measure: z.enum(['count', 'ratio']).default('count'),
    window: minutes('1m', '1d'),
    thresholds: ThresholdsSchema,
    direction: z.enum(['above', 'below']).default('above'),
  })
  .strict();

const LatencyRule = z
  .object({
    ...common,
    kind: z.literal('latency'),
    filter: MetricFilterSchema.default({}),
    stat: z.enum(['p50', 'p95', 'p99', 'avg', 'max']).default('p95'),
    window: minutes('1m', '1d'),
    /** Compare with the same window a day or a week earlier: the value is then the ratio now/then. */
    compareTo: z.enum(['day', 'week']).optional(),
    thresholds: ThresholdsSchema,
    direction: z.enum(['above', 'below']).default('above'),
  })
  .strict();

const AbsenceRule = z
  .object({
    ...common,
    kind: z.literal('absence'),
    filter: LogFilterSchema.default({}),
    /** Fires when no matching log arrived for this long. */
    window: minutes('1m', '1d'),
    /** The services expected to log; default: every service seen in the last 24 h. */
    services: z.array(z.string().min(1).max(50)).max(500).optional(),
    schedule: ScheduleSchema.optional(),
    severity: z.enum(['warning', 'critical']).default('critical'),
    groupBy: z.array(z.literal('service')).max(1).default(['service']),
  })
  .strict();

const AnomalyRule = z
  .object({
    ...common,
    kind: z.literal('anomaly'),
    metric: z.enum(['errors', 'latency']),
    filter: z
      .object({ ...LogFilterSchema.shape, operation: z.string().min(1).max(100).optional() })
      .strict()
      .default({}),
    stat: z.enum(['p50', 'p95', 'p99', 'avg', 'max']).default('p95'),
    /** The bucket: the current window is compared with the trailing 24 h of windows of this size. */
    window: minutes('1m', '1h'),
    /** Width of the band in MADs (scaled to σ). Warning at `k`, critical at `criticalK`. */
    k: z.number().positive().max(20).default(3),
    criticalK: z.number().positive().max(40).optional(),
    /** The band is never narrower than this (a flat baseline would otherwise flag any change). */
    minDeviation: z.number().nonnegative().default(1),
    direction: z.enum(['above', 'below', 'both']).default('above'),
  })
  .strict();

export const PIPELINE_METRICS = [
  'records_accepted_per_minute',
  'records_rejected_per_minute',
  'batches_queued_per_minute',
  'dead_letters_waiting',
  'default_partition_rows',
  'retention_last_run_age_seconds',
  'evaluator_lag_seconds',
] as const;
export type PipelineMetric = (typeof PIPELINE_METRICS)[number];

const PipelineRule = z
  .object({
    ...common,
    kind: z.literal('pipeline'),
    metric: z.enum(PIPELINE_METRICS),
    /** Only for display: pipeline metrics are per minute or instantaneous. */
    window: minutes('1m', '1d').default('1m'),
    thresholds: ThresholdsSchema,
    direction: z.enum(['above', 'below']).default('above'),
    groupBy: z.array(z.enum(GROUP_BY)).max(0, 'pipeline rules are not grouped').default([]),
  })
  .strict();

export const RuleSchema = z
  .discriminatedUnion('kind', [LogThresholdRule, LatencyRule, AbsenceRule, AnomalyRule, PipelineRule])
  .superRefine((rule, ctx) => {
    if ('thresholds' in rule && rule.thresholds.warning === undefined && rule.thresholds.critical === undefined)
      ctx.addIssue({ code: 'custom', path: ['thresholds'], message: 'set warning, critical or both' });
    // Logs have no operation, metrics no event_type: a group by either would fail at every evaluation.
    const onMetrics = rule.kind === 'latency' || (rule.kind === 'anomaly' && rule.metric === 'latency');
    const missing: GroupField = onMetrics ? 'event_type' : 'operation';
    rule.groupBy.forEach((g, i) => {
      if (g === missing)
        ctx.addIssue({
          code: 'custom',
          path: ['groupBy', i],
          message: `${onMetrics ? 'metrics have no event_type' : 'logs have no operation'}: group by ${onMetrics ? 'service or operation' : 'service or event_type'}`,
        });
    });
  })
  .meta({ id: 'AlertRule' });
export type Rule = z.output<typeof RuleSchema>;
export type RuleInput = z.input<typeof RuleSchema>;
export type RuleKind = Rule['kind'];
