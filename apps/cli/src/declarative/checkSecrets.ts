import { type FjordClient, must } from '../apiClient.js';
import type { DesiredState } from './desiredState.js';
import type { ObservedInstance, ObservedState } from './observedState.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface CheckAnswer {
  data?: { matches: boolean };
  error?: unknown;
  response: Response;
}

/**
 * A check, waiting out the API's per-secret budget (429 with Retry-After) rather than guessing.
 * Undefined (not checked) for a resource gone or not yet there (a user still being created).
 */
async function check(what: string, send: () => Promise<CheckAnswer>): Promise<boolean | undefined> {
  for (;;) {
    const answer = await send();
    if (answer.response.status === 429) {
      await sleep(Math.max(1, Number(answer.response.headers.get('retry-after')) || 1) * 1000);
      continue;
    }
    if (answer.response.status === 404) return undefined;
    return (await must(what, Promise.resolve(answer))).data.matches;
  }
}

/**
 * Write-only secrets cannot be read back to compare, so the plan asks the API whether the file's
 * are the live ones (ADR 0019): a user's password (the brokers authenticate it) and a connector's
 * secrets (compared by the API). Only resources in both the file and the live state are checked;
 * the answers become `passwordMatches` / `secretsMatch` of the observed state.
 */
export async function checkSecrets(
  api: FjordClient,
  desired: DesiredState,
  observed: ObservedState,
): Promise<ObservedState> {
  const wanted = new Map(desired.instances.map((d) => [d.name, d]));
  const instances = await Promise.all(
    observed.instances.map(async (o): Promise<ObservedInstance> => {
      const d = wanted.get(o.name);
      if (!d) return o;
      const path = { instanceId: o.id };
      const users = await Promise.all(
        o.users.map(async (u) => {
          const file = d.users.find((x) => x.name === u.name);
          // A mechanism the user lacks is planned as an update anyway.
          if (!file || (file.mechanism && !u.mechanisms.includes(file.mechanism))) return u;
          const passwordMatches = await check(`check the password of user ${u.name} of ${o.name}`, () =>
            api.POST('/v1/instances/{instanceId}/users/{user}/verify-password', {
              params: { path: { ...path, user: u.name } },
              body: { password: file.password, ...(file.mechanism ? { mechanism: file.mechanism } : {}) },
            }),
          );
          return passwordMatches === undefined ? u : { ...u, passwordMatches };
        }),
      );
      const connectors = await Promise.all(
        o.connectors.map(async (c) => {
          const file = d.connectors.find((x) => x.name === c.name);
          if (!file || file.type !== c.type) return c;
          const secrets = Object.fromEntries(
            Object.entries(file.secrets).filter((e): e is [string, string] => typeof e[1] === 'string'),
          );
          const secretsMatch = await check(`check the secrets of connector ${c.name} of ${o.name}`, () =>
            api.POST('/v1/instances/{instanceId}/connectors/{connectorId}/verify-secrets', {
              params: { path: { ...path, connectorId: c.id } },
              body: { secrets },
            }),
          );
          return secretsMatch === undefined ? c : { ...c, secretsMatch };
        }),
      );
      return { ...o, users, connectors };
    }),
  );
  return { ...observed, instances };
}
