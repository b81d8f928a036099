/**
 * Contact points, silences and mute timings as the API and the CLI accept them, and alerting's
 * rows as the API returns them (the types in sql.ts are inferred from these). A `z.date()` is a
 * Date in the code and an ISO 8601 string in JSON: the OpenAPI document says string, date-time.
 */
import { z } from 'zod';
import { NameSchema, RuleSchema, TimeZoneSchema } from './rules';
import type { AlertState, InstanceState, Severity } from './state';

const Hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'HH:MM');

export const ContactPointSchema = z
  .discriminatedUnion('kind', [
    z
      .object({
        name: NameSchema,
        kind: z.literal('webhook'),
        url: z.url(),
        /** Standard Webhooks secret: `whsec_` and base64 of 24-64 random bytes. */
        secret: z.string().regex(/^whsec_[A-Za-z0-9+/]{32,88}={0,2}$/, 'a Standard Webhooks secret: "whsec_" and base64 of 24-64 bytes'),
      })
      .strict(),
    z.object({ name: NameSchema, kind: z.literal('alertmanager'), url: z.url() }).strict(),
    z.object({ name: NameSchema, kind: z.literal('slack'), url: z.url() }).strict(),
    z
      .object({
        name: NameSchema,
        kind: z.literal('pagerduty'),
        url: z.url().default('https://events.pagerduty.com/v2/enqueue'),
        routingKey: z.string().min(1).max(100),
      })
      .strict(),
  ])
  .meta({ id: 'ContactPoint' });
export type ContactPoint = z.output<typeof ContactPointSchema>;

/** A contact point as listed: without its secret. */
export const ContactPointSummarySchema = z
  .object({ name: NameSchema, kind: z.enum(ContactPointSchema.options.map((o) => o.shape.kind.value)), url: z.url() })
  .meta({ id: 'ContactPointSummary' });
export type ContactPointSummary = z.infer<typeof ContactPointSummarySchema>;

export const MatcherSchema = z
  .object({
    label: z.string().min(1).max(50),
    value: z.string().max(200),
    /** `=`, `!=`, `=~` (regular expression, anchored) or `!~`. */
    op: z.enum(['=', '!=', '=~', '!~']).default('='),
  })
  .strict()
  .superRefine((m, ctx) => {
    if (m.op.includes('~')) {
      try {
        new RegExp(`^(?:${m.value})$`);
      } catch (error) {
        ctx.addIssue({ code: 'custom', path: ['value'], message: `not a regular expression: ${(error as Error).message}` });
      }
    }
  });
export type Matcher = z.output<typeof MatcherSchema>;

export const SilenceInputSchema = z
  .object({
    matchers: z.array(MatcherSchema).min(1).max(20),
    startsAt: z.iso.datetime({ offset: true }).optional(),
    endsAt: z.iso.datetime({ offset: true }),
    comment: z.string().min(1).max(1000),
  })
  .strict()
  .refine((s) => Date.parse(s.endsAt) > (s.startsAt ? Date.parse(s.startsAt) : Date.now()), {
    path: ['endsAt'],
    message: 'must be after startsAt (default: now)',
  })
  .meta({ id: 'SilenceInput' });
export type SilenceInput = z.output<typeof SilenceInputSchema>;

/** A silence as stored: its times in UTC with milliseconds, `createdBy` the id of the API key that made it. */
export const SilenceSchema = z
  .object({
    id: z.uuid(),
    /** As accepted, `op` filled in. */
    matchers: z.array(MatcherSchema.required()),
    startsAt: z.iso.datetime(),
    endsAt: z.iso.datetime(),
    comment: SilenceInputSchema.shape.comment,
    createdBy: z.string(),
  })
  .meta({ id: 'Silence' });
export type Silence = z.infer<typeof SilenceSchema>;

/** Recurring intervals (local time in `timezone`) during which notifications are not sent. */
export const MuteTimingSchema = z
  .object({
    name: NameSchema,
    timezone: TimeZoneSchema,
    intervals: z
      .array(
        z.object({ days: z.array(z.number().int().min(1).max(7)).min(1).default([1, 2, 3, 4, 5, 6, 7]), start: Hhmm, end: Hhmm }).strict(),
      )
      .min(1)
      .max(20),
  })
  .strict()
  .meta({ id: 'MuteTiming' });
export type MuteTiming = z.output<typeof MuteTimingSchema>;

/** The file `npm run alerts -- apply` reads: everything in one document, applied in one transaction. */
export const AlertingFileSchema = z
  .object({
    contactPoints: z.array(ContactPointSchema).default([]),
    muteTimings: z.array(MuteTimingSchema).default([]),
    rules: z.array(z.unknown()).default([]),
  })
  .strict();

export const AlertStateSchema = z.enum(['normal', 'pending', 'firing', 'recovering', 'nodata', 'error'] satisfies AlertState[]);
export const SeveritySchema = z.enum(['warning', 'critical'] satisfies Severity[]);

/** A rule as stored, with who changed it last and when it was last evaluated and notified about. */
export const StoredRuleSchema = z.object({
  rule: RuleSchema,
  updatedAt: z.iso.datetime(),
  /** The id of the API key that saved it, or `cli` (`npm run alerts -- apply`). */
  updatedBy: z.string().nullable(),
  notifiedAt: z.date().nullable(),
  evaluatedAt: z.date().nullable(),
});

/** One (rule, group): the state machine's state (state.ts InstanceState) and what receivers were last told. */
export const StoredInstanceSchema = z
  .object({
    rule: NameSchema,
    groupKey: z.string(),
    labels: z.record(z.string(), z.string()),
    state: AlertStateSchema,
    severity: SeveritySchema.nullable(),
    /** When the current state began. */
    since: z.date(),
    /** When the condition first held in this episode (Pending or Firing). */
    activeSince: z.date().nullable(),
    value: z.number().nullable(),
    threshold: z.number().nullable(),
    /** Consecutive evaluations the group was missing from the results. */
    missing: z.number().int(),
    evaluatedAt: z.date(),
    notified: z.enum(['firing', 'resolved']).nullable(),
    notifiedSeverity: SeveritySchema.nullable(),
    notifiedAt: z.date().nullable(),
    /** Correlation ids of sample traces. */
    samples: z.array(z.string()),
  })
  .meta({ id: 'StoredAlertInstance' }) satisfies z.ZodType<InstanceState>;

/** A state change as the evaluator appends it (`minute` the evaluated minute, UTC). */
export const HistoryEntrySchema = z.object({
  rule: NameSchema,
  group_key: z.string(),
  labels: z.record(z.string(), z.string()),
  from_state: AlertStateSchema.nullable(),
  to_state: AlertStateSchema,
  severity: SeveritySchema.nullable(),
  value: z.number().nullable(),
  threshold: z.number().nullable(),
  minute: z.iso.datetime(),
  /** Silenced or muted: kept in the history, not sent. */
  silenced: z.boolean(),
});
/** A state change as stored. */
export const HistoryRecordSchema = z.object({ id: z.number().int(), ...HistoryEntrySchema.shape }).meta({ id: 'AlertHistoryEntry' });

export const DeliveryStatusSchema = z.enum(['pending', 'published', 'delivered', 'failed']);

/** One group of a notification: its labels, value against threshold, window and sample traces. */
export const AlertNoticeSchema = z
  .object({
    status: z.enum(['firing', 'resolved']),
    severity: z.string().nullable(),
    /** The rule's name (`alertname`), severity, group and rule labels. */
    labels: z.record(z.string(), z.string()),
    /** The group's labels alone. */
    group: z.record(z.string(), z.string()),
    value: z.number().nullable(),
    threshold: z.number().nullable(),
    window: z.object({ from: z.iso.datetime(), to: z.iso.datetime() }),
    startsAt: z.iso.datetime(),
    endsAt: z.iso.datetime().nullable(),
    summary: z.string(),
    /** Up to five correlation ids, each with a link to its trace timeline. */
    samples: z.array(z.object({ correlationId: z.string(), traceUrl: z.string() })),
    /** The search, pre-filtered to the rule's window and group. */
    searchUrl: z.string(),
    /** A stable id of the labels (Alertmanager's fingerprint). */
    fingerprint: z.string(),
  })
  .meta({ id: 'AlertNotice' });
export type AlertNotice = z.infer<typeof AlertNoticeSchema>;

/** A notification as the outbox stores it and the generic webhook sends it (with the webhook id). */
export const NotificationSchema = z
  .object({
    version: z.literal('1'),
    type: z.enum(['alert', 'test']),
    rule: z.object({ name: z.string(), kind: z.string(), description: z.string().nullable() }),
    status: z.enum(['firing', 'resolved']),
    alerts: z.array(AlertNoticeSchema),
    externalURL: z.string(),
    generatorURL: z.string(),
    evaluatedAt: z.iso.datetime(),
  })
  .meta({ id: 'AlertNotification' });
export type Notification = z.infer<typeof NotificationSchema>;

/** A notification to one contact point as the outbox takes it; its id is the deduplication id. */
export const OutboxRowSchema = z.object({
  id: z.uuid(),
  /** Null for a test notification. */
  rule: NameSchema.nullable(),
  contact_point: NameSchema,
  kind: z.enum(['alert', 'test']),
  /** The notification as queued, before it is rendered for the contact point. */
  payload: NotificationSchema,
});

/** A notification in the delivery ledger: the outbox row and its delivery so far. */
export const LedgerEntrySchema = OutboxRowSchema.extend({
  status: DeliveryStatusSchema,
  attempts: z.number().int(),
  /** The HTTP status of the last attempt (null: none, or unreachable). */
  last_status: z.number().int().nullable(),
  last_error: z.string().nullable(),
  created_at: z.date(),
  published_at: z.date().nullable(),
  delivered_at: z.date().nullable(),
}).meta({ id: 'AlertLedgerEntry' });

/** One minute of the evaluator (skipped: not evaluated, the cron missed it). */
export const EvaluationRunSchema = z
  .object({
    minute: z.date(),
    status: z.enum(['ok', 'error', 'skipped']),
    rules: z.number().int(),
    transitions: z.number().int(),
    notifications: z.number().int(),
    duration_ms: z.number().nullable(),
    error: z.string().nullable(),
  })
  .meta({ id: 'AlertEvaluation' });
