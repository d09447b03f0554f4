import type { PrismaClient } from '@fjord/db';
import { deploymentCaBundle } from '@fjord/provisioning';

/**
 * The deployment's CA bundle, read again at most once a minute once it exists (a CA is replaced
 * years apart, with overlap), and on every call until the first broker certificate made one.
 */
export function caBundleCache(prisma: PrismaClient): () => Promise<string | null> {
  let known: { readonly bundle: string; readonly at: number } | undefined;
  return async () => {
    if (known && Date.now() - known.at < 60_000) return known.bundle;
    const bundle = await deploymentCaBundle(prisma);
    known = bundle === null ? undefined : { bundle, at: Date.now() };
    return bundle;
  };
}
