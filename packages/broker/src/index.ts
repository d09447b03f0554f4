export * from './Broker.js';
export * from './config/BrokerConfig.js';
export * from './config/PropertiesFile.js';
