// Public surface of the store module: the embedded server and the sample data generator (the
// client everything uses, and its errors, are packages/worker/src/store/).
export { startStoreServer } from './server.js';
export type { StoreServer, StoreServerOptions } from './server.js';
export { productRow, generateProducts, seedProducts, CATEGORIES } from './seed.js';
export type { Product, SeedOptions } from './seed.js';
