export { buildZoneAgent, DEFAULT_BROKER_MAIN, type ZoneAgentOptions } from './agent.js';
