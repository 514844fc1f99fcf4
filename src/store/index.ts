// Public surface of the store module: the client everything else uses, its errors, the
// embedded server and the sample data generator.
export { createStoreClient } from './client.js';
export type { StoreClient, StoreClientOptions, ScanPage, ScanPageInput, Filter, ID, Row } from './client.js';
export {
  StoreError,
  StoreBadRequestError,
  StoreAuthError,
  StoreNotFoundError,
  StoreConflictError,
  StoreRateLimitError,
  StoreServerError,
  StoreConnectionError,
  StoreAbortedError,
  toStoreError,
  isRetryableStoreError,
} from './errors.js';
export { startStoreServer } from './server.js';
export type { StoreServer, StoreServerOptions } from './server.js';
export { productRow, generateProducts, seedProducts, CATEGORIES } from './seed.js';
export type { Product, SeedOptions } from './seed.js';
