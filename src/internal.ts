/**
 * Seams for this repository's tests and benchmarks only. The package's `exports` does not
 * publish this file: nothing here is API, and any of it may change without notice.
 */

export type { TransactionHooks } from './manager/refresh-transaction.js';
export { type InternalSeams, withInternalSeams } from './manager/settings.js';
