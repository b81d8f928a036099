/**
 * QStash: the queue that holds a batch while the database cannot take it, and that delivers alert
 * notifications with retries. Throws named errors only.
 */
export {
  DELIVER_FAILED_PATH,
  DELIVER_PATH,
  publicBase,
  publishDeliveries,
  publishForReplay,
  QueueUnavailableError,
  REPLAY_FAILED_PATH,
  REPLAY_PATH,
  splitBatch,
  type ReplayBatch,
} from './publish';
export { ReplayDisabledError, SignatureError, verifyQStashSignature } from './verify';
