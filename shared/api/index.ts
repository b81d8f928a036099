/** The wire contract the routes and the client library share: records, answers, errors, levels. */
export * from './errors';
export * from './levels';
export * from './wire';
