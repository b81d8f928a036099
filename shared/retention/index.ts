/** Retention: the seed's two-tier policy applied by whole day partitions, and partition upkeep. */
export {
  DEFAULT_POLICY,
  retentionPolicy,
  runRetention,
  runRetentionJob,
  type RetentionOptions,
  type RetentionPolicy,
  type RetentionSummary,
} from './job';
export { ensurePartitions } from './partitions';
