/**
 * Alerting: rules evaluated every minute against the logs and metrics, a state machine per
 * (rule, group) kept in Postgres, and notifications delivered exactly once through an outbox
 * and QStash to webhooks, Alertmanager receivers, Slack and PagerDuty.
 */
export { applyAlertingFile, InvalidAlertingFileError } from './apply';
export { deliverNotification, type DeliveryResult } from './deliver';
export { EVALUATOR_LEASE, evaluatedMinute, runEvaluation, type EvaluateOptions, type EvaluationSummary } from './evaluate';
export { buildNotification, testNotification, type AlertNotice, type Notification } from './notify';
export { previewRule, type PreviewTransition } from './preview';
export { pipelineMetrics, prometheusText, type PipelineMetrics } from './pipeline';
export { evaluateAlerts, EVALUATOR_STALLED_AFTER_SECONDS } from './schedule';
export { alertmanagerBody, pagerDutyEvents, render, slackBody, standardWebhookSignature } from './render';
export { durationSeconds, NameSchema, PIPELINE_METRICS, RuleSchema, type Rule, type RuleInput } from './rules';
export {
  AlertingFileSchema,
  AlertStateSchema,
  ContactPointSchema,
  ContactPointSummarySchema,
  DeliveryStatusSchema,
  EvaluationRunSchema,
  HistoryRecordSchema,
  LedgerEntrySchema,
  MuteTimingSchema,
  SeveritySchema,
  SilenceInputSchema,
  SilenceSchema,
  StoredInstanceSchema,
  StoredRuleSchema,
  type ContactPoint,
  type ContactPointSummary,
  type MuteTiming,
  type Silence,
  type SilenceInput,
} from './schema';
export * from './sql';
export { classify, notificationDue, step, type AlertState, type InstanceState, type Observation, type Severity } from './state';
