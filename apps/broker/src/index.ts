export * from './LocalCluster.js';
