export * from './Broker.js';
export * from './config/BrokerConfig.js';
export * from './config/PropertiesFile.js';
export * from './network/BrokerClient.js';
export * from './security/InterBrokerSecurity.js';
export * from './storage/index.js';
