/**
 * Request formats for model functions, shared by the platform (surfaces, batching) and the model
 * host process. Self-contained: imports nothing outside this folder.
 */
export * from './datatypes.js';
export * from './envelope.js';
export * from './errors.js';
export * from './examples.js';
export * from './json.js';
export * from './oip.js';
export * from './payload.js';
export * from './rows.js';
export * from './signature.js';
export * from './tensor.js';
export * from './v1.js';
export * from './validate.js';
