import type { ApiMessageTypes } from '@fjord/protocol';
import type { RequestContext } from './BrokerServices.js';

export type ApiKeyNumber = keyof ApiMessageTypes;

/**
 * A request handler for one API key: the version range it implements and the function that
 * answers. `null` means "send no response" (acks=0 produce).
 */
export interface ApiHandler<K extends ApiKeyNumber = ApiKeyNumber> {
  readonly apiKey: K;
  readonly minVersion: number;
  readonly maxVersion: number;
  handle(
    request: ApiMessageTypes[K]['request'],
    ctx: RequestContext,
  ): ApiMessageTypes[K]['responseInput'] | null | Promise<ApiMessageTypes[K]['responseInput'] | null>;
}

export function defineHandler<K extends ApiKeyNumber>(h: ApiHandler<K>): ApiHandler<K> {
  return h;
}
