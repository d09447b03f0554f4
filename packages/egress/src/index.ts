export * from './allowedNetworks.js';
export * from './guardedLookup.js';
