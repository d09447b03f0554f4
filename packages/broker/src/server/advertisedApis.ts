import type { ApiHandler } from './ApiHandler.js';

export interface AdvertisedApi {
  readonly apiKey: number;
  readonly minVersion: number;
  readonly maxVersion: number;
}

/** What one Kafka release speaks: the newest version of each API it has (API_VERSIONS_BY_RELEASE). */
export type ReleaseApis = Readonly<Record<number, { readonly max: number }>>;

/**
 * The ApiVersions answer of a broker emulating `release`: each handled API that release has, capped
 * at the release's newest version, so clients pick (and infer the broker version from) exactly what
 * they would there. An API the release lacks is left out, as that Kafka's ApiVersions leaves it out
 * (Kafka 2.4 has no DescribeClientQuotas); `internal` APIs (broker to broker) are never advertised.
 */
export function advertisedApis(
  handlers: readonly Pick<ApiHandler, 'apiKey' | 'minVersion' | 'maxVersion'>[],
  release: ReleaseApis,
  internal: ReadonlySet<number>,
): AdvertisedApi[] {
  const out: AdvertisedApi[] = [];
  for (const h of handlers) {
    const releaseApi = release[h.apiKey];
    if (internal.has(h.apiKey) || releaseApi === undefined) continue;
    const maxVersion = Math.min(h.maxVersion, releaseApi.max);
    if (maxVersion < h.minVersion) continue;
    out.push({ apiKey: h.apiKey, minVersion: h.minVersion, maxVersion });
  }
  return out.sort((a, b) => a.apiKey - b.apiKey);
}
