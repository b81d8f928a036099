/** QStash: the queue that holds a batch while the database cannot take it. Throws named errors only. */
export {
  publicBase,
  publishForReplay,
  QueueUnavailableError,
  REPLAY_FAILED_PATH,
  REPLAY_PATH,
  splitBatch,
  type ReplayBatch,
} from './publish';
export { ReplayDisabledError, SignatureError, verifyQStashSignature } from './verify';
