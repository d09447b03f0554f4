import { AclOperation, FencedControllerError, listenerConfigDef } from '@fjord/metadata';
import {
  API_CODEC_LIST,
  API_VERSIONS_BY_RELEASE,
  ApiKey,
  decodeRequestHeader,
  ErrorCode,
  encodeResponseFrame,
  ProtocolDecodeError,
  Reader,
  type RequestHeaderInfo,
} from '@fjord/protocol';
import type { TrafficMetrics } from '../metrics/TrafficMetrics.js';
import type { AlterConfigsResource } from '../network/ListenerTlsReloader.js';
import type { ConnectionInfo, FrameHandler, FrameResult } from '../network/RequestContext.js';
import { completeAuthentication, saslGate } from '../security/SaslSession.js';
import type { ApiHandler, ApiKeyNumber } from './ApiHandler.js';
import { type AdvertisedApi, advertisedApis } from './advertisedApis.js';
import type { BrokerServices, RequestContext } from './BrokerServices.js';
import { errorResponseBody } from './ErrorResponses.js';
import { AUTH_FAILURE_DELAY_MS } from './handlers/sasl.js';
import { InvalidRequestError } from './InvalidRequestError.js';
import { authorizeCluster } from './RequestAuthorizer.js';

function recordRequest(
  traffic: TrafficMetrics,
  apiKey: number,
  started: number,
  r: FrameResult,
): FrameResult {
  const throttleMs = r !== null && typeof r === 'object' && 'throttleMs' in r ? (r.throttleMs ?? 0) : 0;
  traffic.request(apiKey, performance.now() - started, throttleMs);
  return r;
}

/** Requests no request-time quota applies to (Kafka exempts these from throttling). */
const QUOTA_EXEMPT_APIS: ReadonlySet<number> = new Set([
  ApiKey.ApiVersions,
  ApiKey.SaslHandshake,
  ApiKey.SaslAuthenticate,
]);

/**
 * APIs only brokers use with each other (KRaft puts them on the controller listener): served
 * on the inter-broker listener only, and never advertised to clients.
 */
export const INTER_BROKER_APIS: ReadonlySet<number> = new Set([
  ApiKey.AlterPartition,
  ApiKey.Envelope,
  ApiKey.BrokerRegistration,
  ApiKey.BrokerHeartbeat,
  ApiKey.AllocateProducerIds,
  ApiKey.AssignReplicasToDirs,
]);

/**
 * Admin requests that change cluster metadata: a broker that is not the active controller
 * forwards them there in an Envelope (KIP-590), where the same handlers answer them.
 */
export const FORWARDED_APIS: ReadonlySet<number> = new Set([
  ApiKey.CreateTopics,
  ApiKey.DeleteTopics,
  ApiKey.CreatePartitions,
  ApiKey.AlterConfigs,
  ApiKey.IncrementalAlterConfigs,
  ApiKey.AlterPartitionReassignments,
  ApiKey.ElectLeaders,
  ApiKey.UnregisterBroker,
  ApiKey.CreateAcls,
  ApiKey.DeleteAcls,
  ApiKey.AlterUserScramCredentials,
  ApiKey.AlterClientQuotas,
]);

/**
 * Dispatches request frames to handlers, the way Kafka's KafkaApis does: parse the header,
 * check the version against what we advertise, decode the body with the generated codec,
 * run the handler, encode the response with the same version.
 */
export class KafkaApis implements FrameHandler {
  private readonly handlers: (ApiHandler | undefined)[] = [];
  readonly advertised: readonly AdvertisedApi[];

  constructor(
    private readonly services: BrokerServices,
    handlers: readonly ApiHandler[],
    kafkaRelease: string,
  ) {
    for (const h of handlers) this.handlers[h.apiKey] = h;
    const release = API_VERSIONS_BY_RELEASE[kafkaRelease];
    if (!release) throw new Error(`unknown Kafka release ${kafkaRelease}`);
    this.advertised = advertisedApis(handlers, release, INTER_BROKER_APIS);
  }

  handleFrame(connection: ConnectionInfo, frame: Buffer): FrameResult | Promise<FrameResult> {
    const traffic = this.services.metrics?.traffic;
    if (!traffic || frame.length < 2) return this.handle(connection, frame);
    // Kafka's RequestMetrics: count and time per API, from receipt to the response being ready.
    const apiKey = frame.readInt16BE(0);
    const started = performance.now();
    const result = this.handle(connection, frame);
    if (result instanceof Promise) return result.then((r) => recordRequest(traffic, apiKey, started, r));
    return recordRequest(traffic, apiKey, started, result);
  }

  private handle(connection: ConnectionInfo, frame: Buffer): FrameResult | Promise<FrameResult> {
    if (connection.sasl?.stage === 'raw-token') return this.rawSaslToken(connection, frame);
    let header: RequestHeaderInfo;
    try {
      header = decodeRequestHeader(frame);
    } catch {
      this.services.log.warn(
        { conn: connection.connectionId },
        'unparseable request header, closing connection',
      );
      return 'close';
    }
    const gate = saslGate(connection, header.apiKey, this.services.now());
    if (gate.kind === 'close') {
      // Kafka disconnects a client that sends other requests before (re-)authenticating, or after its session expired.
      this.services.log.warn(
        {
          conn: connection.connectionId,
          client: connection.clientAddress,
          apiKey: header.apiKey,
          reason: gate.reason,
        },
        'SASL: closing connection',
      );
      return 'close';
    }
    const handler = this.handlers[header.apiKey];
    // Brokers speak to each other in every version Fjord implements (replica fetches are Fetch v13),
    // whatever release clients are shown: Kafka's inter.broker.protocol.version is apart from it too.
    const range =
      connection.listenerName === this.services.config.interBrokerListener
        ? handler
        : INTER_BROKER_APIS.has(header.apiKey)
          ? undefined
          : this.advertised.find((a) => a.apiKey === header.apiKey);
    const versionOk =
      handler !== undefined &&
      range !== undefined &&
      header.apiVersion >= range.minVersion &&
      header.apiVersion <= range.maxVersion;
    if (!versionOk) return this.unsupported(header, connection);
    let request: unknown;
    try {
      const decode = API_CODEC_LIST[header.apiKey]!.decodeRequest[header.apiVersion]!;
      request = decode(new Reader(frame, header.headerSize));
    } catch (e) {
      if (!(e instanceof ProtocolDecodeError)) throw e;
      // Kafka closes the connection when a request body cannot be parsed.
      this.services.log.warn(
        {
          conn: connection.connectionId,
          apiKey: header.apiKey,
          version: header.apiVersion,
          reason: e.message,
        },
        'malformed request, closing connection',
      );
      return 'close';
    }
    const ctx: RequestContext = {
      apiKey: header.apiKey,
      apiVersion: header.apiVersion,
      requestSize: frame.length + 4,
      correlationId: header.correlationId,
      clientId: header.clientId,
      connection,
      broker: this.services,
    };
    // Listener TLS files are checked by the broker they belong to, before the change goes anywhere.
    const tlsReload = this.listenerTlsCheck(header.apiKey, request, ctx);
    if (tlsReload && 'refusal' in tlsReload) return this.respond(header, tlsReload.refusal, ctx, 0);
    if (FORWARDED_APIS.has(header.apiKey) && !connection.forwarded && !this.services.isActiveController()) {
      const forwarded = this.forward(connection, frame, header);
      if (!tlsReload) return forwarded;
      return forwarded.then((r) => {
        tlsReload.reload();
        return r;
      });
    }

    // Broker-to-broker APIs need CLUSTER_ACTION, as Kafka's authorizeClusterOperation.
    if (INTER_BROKER_APIS.has(header.apiKey) && !authorizeCluster(ctx, AclOperation.CLUSTER_ACTION))
      return this.errorResponse(header, connection, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    let result: ReturnType<ApiHandler['handle']>;
    const started = performance.now();
    const failed = (e: unknown) =>
      // This broker was the controller and lost the lease mid-way: nothing was written, and a Kafka
      // broker would send the request on to the next controller (BrokerToControllerChannelManager
      // on NOT_CONTROLLER), so the client sees the outcome there, not an error.
      e instanceof FencedControllerError &&
      FORWARDED_APIS.has(header.apiKey) &&
      !connection.forwarded &&
      !connection.internal
        ? this.forward(connection, frame, header)
        : this.handlerFailed(e, header, request, ctx);
    try {
      result = handler.handle(request as never, ctx);
    } catch (e) {
      return failed(e);
    }
    // Request-time quotas count handler work, not time spent waiting on I/O or other requests.
    const syncMs = performance.now() - started;
    // A metadata change is answered once every broker sees it: the client's next request may go
    // to any of them (read-after-write across the cluster).
    if (FORWARDED_APIS.has(header.apiKey))
      return Promise.resolve(result).then(async (r) => {
        await this.services.awaitMetadataPropagation();
        tlsReload?.reload();
        return this.respondOrFail(header, r, request, ctx, syncMs);
      }, failed);
    if (result instanceof Promise)
      return result.then((r) => this.respondOrFail(header, r, request, ctx, syncMs), failed);
    return this.respondOrFail(header, result, request, ctx, syncMs);
  }

  /** A response body that cannot be encoded is the handler's failure too (Kafka: the same error path). */
  private respondOrFail(
    header: RequestHeaderInfo,
    body: unknown,
    request: unknown,
    ctx: RequestContext,
    handlerMs: number,
  ): FrameResult {
    try {
      return this.respond(header, body, ctx, handlerMs);
    } catch (e) {
      return this.handlerFailed(e, header, request, ctx);
    }
  }

  /**
   * A handler threw. A request Kafka would have refused while parsing closes the connection
   * (InvalidRequestError); anything else is a broker fault: logged, and answered with
   * UNKNOWN_SERVER_ERROR in the request's own response shape, as Kafka's
   * `handleError` → `getErrorResponse`, so the client retries or reports and the connection stays.
   */
  private handlerFailed(
    e: unknown,
    header: RequestHeaderInfo,
    request: unknown,
    ctx: RequestContext,
  ): FrameResult {
    if (e instanceof InvalidRequestError) return this.refuseInvalid(e, header, ctx.connection);
    if (e instanceof FencedControllerError) {
      // Kafka's controller answers NOT_CONTROLLER when it lost leadership before the write (the
      // sender looks for the new controller and tries again there).
      this.services.log.warn(
        { conn: ctx.connection.connectionId, apiKey: header.apiKey, reason: e.message },
        'lost the controller lease while handling a request, answering NOT_CONTROLLER',
      );
      return this.errorResponse(header, ctx.connection, ErrorCode.NOT_CONTROLLER, request);
    }
    this.services.log.error(
      {
        err: e,
        conn: ctx.connection.connectionId,
        client: ctx.connection.clientAddress,
        apiKey: header.apiKey,
        version: header.apiVersion,
        correlationId: header.correlationId,
      },
      'unexpected error handling request, answering UNKNOWN_SERVER_ERROR',
    );
    return this.errorResponse(header, ctx.connection, ErrorCode.UNKNOWN_SERVER_ERROR, request);
  }

  /**
   * For (Incremental)AlterConfigs received from a client (not forwarded) by someone allowed to
   * alter broker configs: a refusal when listener TLS settings of this broker cannot be used, else
   * a hook that reads the files again once the change is done (setting the same paths reloads too).
   */
  private listenerTlsCheck(
    apiKey: number,
    request: unknown,
    ctx: RequestContext,
  ): { refusal: unknown } | { reload(): void } | undefined {
    const reloader = this.services.listenerTls;
    if (!reloader || ctx.connection.forwarded) return undefined;
    if (apiKey !== ApiKey.AlterConfigs && apiKey !== ApiKey.IncrementalAlterConfigs) return undefined;
    if (!authorizeCluster(ctx, AclOperation.ALTER_CONFIGS)) return undefined;
    const req = request as { resources: AlterConfigsResource[]; validateOnly: boolean };
    const touched = req.resources.some(
      (r) =>
        r.resourceName === String(this.services.brokerId) &&
        r.configs.some((c) => listenerConfigDef(c.name)?.perBrokerOnly),
    );
    if (!touched) return undefined;
    const refusal = reloader.precheck(
      this.services.metadata.image,
      req.resources,
      apiKey === ApiKey.IncrementalAlterConfigs,
    );
    if (refusal) return { refusal };
    return {
      reload: () => {
        if (!req.validateOnly) reloader.update(this.services.metadata.image, true);
      },
    };
  }

  /** A request Kafka would have refused while parsing: log why and close; anything else propagates. */
  private refuseInvalid(
    e: InvalidRequestError,
    header: RequestHeaderInfo,
    connection: ConnectionInfo,
  ): FrameResult {
    this.services.log.warn(
      {
        conn: connection.connectionId,
        client: connection.clientAddress,
        apiKey: header.apiKey,
        version: header.apiVersion,
        reason: e.message,
      },
      'invalid request, closing connection',
    );
    return 'close';
  }

  /** Answers a frame through these handlers, for the controller channel and forwarded requests. */
  async dispatch(connection: ConnectionInfo, frame: Buffer): Promise<Buffer[] | null> {
    // Not counted in request metrics: the request (or the client's, forwarded) was counted on receipt.
    const r = await this.handle(connection, frame);
    if (r === null || r === 'close') return null;
    return Array.isArray(r) ? r : [...r.chunks];
  }

  private async forward(
    connection: ConnectionInfo,
    frame: Buffer,
    header: RequestHeaderInfo,
  ): Promise<FrameResult> {
    try {
      return await this.services.forwardToController(connection, frame);
    } catch (err) {
      // Without a controller the request cannot be carried out; the client reconnects and retries.
      this.services.log.warn(
        { conn: connection.connectionId, apiKey: header.apiKey, err: (err as Error).message },
        'could not forward request to the controller, closing connection',
      );
      return 'close';
    }
  }

  private respond(
    header: RequestHeaderInfo,
    body: unknown,
    ctx: RequestContext,
    handlerMs: number,
  ): FrameResult {
    const r = this.encodeResponse(header, body, ctx, handlerMs);
    const after = ctx.onResponseWritten;
    if (!after || after.length === 0) return r;
    const written = () => {
      for (const f of after) f();
    };
    if (r === null || r === 'close') {
      written();
      return r;
    }
    return Array.isArray(r) ? { chunks: r, written } : { ...r, written };
  }

  private encodeResponse(
    header: RequestHeaderInfo,
    body: unknown,
    ctx: RequestContext,
    handlerMs: number,
  ): FrameResult {
    if (body === null) {
      if (ctx.closeAfterResponse) return 'close';
      // acks=0 produce: nothing to say, but a throttled client is still muted.
      const throttleMs = ctx.throttleTimeMs ?? 0;
      return throttleMs > 0 ? { chunks: [], throttleMs } : null;
    }
    const started = performance.now();
    const encode = () =>
      encodeResponseFrame(
        header.apiKey as ApiKeyNumber,
        header.apiVersion,
        header.correlationId,
        body as never,
      );
    if (ctx.closeAfterResponse) return { chunks: encode(), thenClose: true };
    let throttleMs = ctx.throttleTimeMs ?? 0;
    if (!QUOTA_EXEMPT_APIS.has(header.apiKey)) {
      const requestThrottle = this.services.quotas.recordRequestTime(
        this.services.metadata.image,
        { principal: ctx.connection.principal, clientId: ctx.clientId ?? '' },
        handlerMs + (performance.now() - started),
        this.services.now(),
      );
      throttleMs = Math.max(throttleMs, requestThrottle);
    }
    if (throttleMs <= 0) return encode();
    // KIP-219: the response says how long to back off, and the channel is muted that long.
    const withThrottle = body as { throttleTimeMs?: number };
    if ('throttleTimeMs' in withThrottle) withThrottle.throttleTimeMs = throttleMs;
    return { chunks: encode(), throttleMs };
  }

  /**
   * After SaslHandshake v0 the client sends bare SASL tokens, each size-prefixed, and gets
   * bare tokens back; a failed exchange closes the connection (Kafka's pre-KIP-152 flow).
   */
  private async rawSaslToken(connection: ConnectionInfo, token: Buffer): Promise<FrameResult> {
    const sasl = connection.sasl!;
    const result = sasl.step!(token);
    if (result.kind === 'failure') {
      this.services.log.info(
        {
          conn: connection.connectionId,
          client: connection.clientAddress,
          mechanism: sasl.mechanism,
          reason: result.message,
        },
        'authentication failed',
      );
      await new Promise((r) => setTimeout(r, AUTH_FAILURE_DELAY_MS));
      return 'close';
    }
    if (result.kind === 'success') {
      const reauthMs = this.services.sasl.reauthMs(connection.listenerName, sasl.mechanism!);
      const outcome = completeAuthentication(connection, result.principal, reauthMs, this.services.now());
      if (!outcome.ok) {
        this.services.log.info(
          { conn: connection.connectionId, reason: outcome.message },
          'authentication failed',
        );
        return 'close';
      }
    }
    const size = Buffer.alloc(4);
    size.writeInt32BE(result.token.length);
    return [size, result.token];
  }

  /**
   * An API or version we do not serve. ApiVersions gets the KIP-511 answer (v0 with
   * UNSUPPORTED_VERSION and our ranges, so the client can retry with a version we speak);
   * anything else gets the schema's default response with UNSUPPORTED_VERSION where it has
   * a top-level error code. Only when no codec can express an answer is the connection closed.
   */
  private unsupported(header: RequestHeaderInfo, connection: ConnectionInfo): FrameResult {
    if (header.apiKey === ApiKey.ApiVersions) {
      return encodeResponseFrame(ApiKey.ApiVersions, 0, header.correlationId, {
        errorCode: ErrorCode.UNSUPPORTED_VERSION,
        apiKeys: this.advertised.map((a) => ({
          apiKey: a.apiKey,
          minVersion: a.minVersion,
          maxVersion: a.maxVersion,
        })),
        throttleTimeMs: 0,
      });
    }
    return this.errorResponse(header, connection, ErrorCode.UNSUPPORTED_VERSION);
  }

  /**
   * `errorCode` in the request's response shape (ErrorResponses.ts; without the decoded request,
   * the schema's default response with its top-level error code); when no codec can express an
   * answer the connection is closed.
   */
  private errorResponse(
    header: RequestHeaderInfo,
    connection: ConnectionInfo,
    errorCode: number,
    request?: unknown,
  ): FrameResult {
    const body = errorResponseBody(header.apiKey, header.apiVersion, request, errorCode);
    if (!body) {
      this.services.log.warn(
        { conn: connection.connectionId, apiKey: header.apiKey, version: header.apiVersion },
        'request for an unknown API or version, closing connection',
      );
      return 'close';
    }
    return encodeResponseFrame(
      header.apiKey as ApiKeyNumber,
      header.apiVersion,
      header.correlationId,
      body as never,
    );
  }
}
