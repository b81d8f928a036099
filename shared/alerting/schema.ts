/** Contact points, silences and mute timings as the API and the CLI accept them. */
import { z } from 'zod';
import { NameSchema, TimeZoneSchema } from './rules';

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

export interface Silence {
  id: string;
  matchers: Matcher[];
  startsAt: string;
  endsAt: string;
  comment: string;
  createdBy: string;
}

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
