import { ApiKey, ErrorCode } from '@fjord/protocol';
import { defineHandler } from '../ApiHandler.js';
import type { AdvertisedApi } from '../advertisedApis.js';

/** ApiVersions: the ranges this broker serves (capped at the emulated Kafka release). */
export function apiVersionsHandler(advertised: () => readonly AdvertisedApi[]) {
  return defineHandler({
    apiKey: ApiKey.ApiVersions,
    minVersion: 0,
    maxVersion: 4,
    handle: () => ({
      errorCode: ErrorCode.NONE,
      apiKeys: advertised().map((a) => ({
        apiKey: a.apiKey,
        minVersion: a.minVersion,
        maxVersion: a.maxVersion,
      })),
      throttleTimeMs: 0,
    }),
  });
}
