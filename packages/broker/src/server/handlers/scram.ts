import { AclOperation, describeUserScramCredentials, planAlterUserScramCredentials } from '@fjord/metadata';
import { ApiKey, ErrorCode } from '@fjord/protocol';
import { defineHandler } from '../ApiHandler.js';
import type { RequestContext } from '../BrokerServices.js';
import { authorizeCluster } from '../RequestAuthorizer.js';
import { code } from './errors.js';

/** DescribeUserScramCredentials (KIP-554): needs DESCRIBE on the cluster; mechanisms and iterations only. */
export const describeUserScramCredentialsHandler = defineHandler({
  apiKey: ApiKey.DescribeUserScramCredentials,
  minVersion: 0,
  maxVersion: 0,
  handle(req, ctx: RequestContext) {
    if (!authorizeCluster(ctx, AclOperation.DESCRIBE))
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        errorMessage: 'Cluster authorization failed.',
        results: [],
      };
    const described = describeUserScramCredentials(
      ctx.broker.metadata.image,
      req.users?.map((u) => u.name) ?? null,
    );
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      results: described.map((d) => ({
        user: d.user,
        errorCode: d.error ? code(d.error) : ErrorCode.NONE,
        errorMessage: d.message,
        credentialInfos: d.credentials.map((c) => ({ mechanism: c.mechanism, iterations: c.iterations })),
      })),
    };
  },
});

/**
 * AlterUserScramCredentials (KIP-554): needs ALTER on the cluster. Clients send the salted
 * password; the controller keeps StoredKey/ServerKey in the metadata log, so every broker
 * authenticates the user from its image.
 */
export const alterUserScramCredentialsHandler = defineHandler({
  apiKey: ApiKey.AlterUserScramCredentials,
  minVersion: 0,
  maxVersion: 0,
  async handle(req, ctx: RequestContext) {
    if (!authorizeCluster(ctx, AclOperation.ALTER)) {
      const users = new Set([...req.deletions.map((d) => d.name), ...req.upsertions.map((u) => u.name)]);
      return {
        throttleTimeMs: 0,
        results: [...users].map((user) => ({
          user,
          errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
          errorMessage: 'Cluster authorization failed.',
        })),
      };
    }
    const plan = await ctx.broker.metadataQueue.submit((image) =>
      planAlterUserScramCredentials(image, req.deletions, req.upsertions),
    );
    ctx.broker.log.info(
      {
        principal: ctx.connection.principal,
        changed: plan.results.filter((r) => r.error === null).map((r) => r.user),
      },
      'SCRAM credentials altered',
    );
    return {
      throttleTimeMs: 0,
      results: plan.results.map((r) => ({
        user: r.user,
        errorCode: r.error ? code(r.error) : ErrorCode.NONE,
        errorMessage: r.message,
      })),
    };
  },
});
