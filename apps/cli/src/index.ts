export * from './args.js';
