import * as messages from '@fjord/protocol';
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
import type { ConnectionInfo, FrameHandler, FrameResult } from '../network/RequestContext.js';
import type { ApiHandler, ApiKeyNumber } from './ApiHandler.js';
import type { BrokerServices, RequestContext } from './BrokerServices.js';
import { AUTH_FAILURE_DELAY_MS } from './handlers/sasl.js';

/** What a client may send on a SASL listener before it has authenticated. */
const PRE_AUTH_APIS: ReadonlySet<number> = new Set([
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
  ApiKey.CreateAcls,
  ApiKey.DeleteAcls,
  ApiKey.AlterUserScramCredentials,
  ApiKey.AlterClientQuotas,
]);

export interface AdvertisedApi {
  readonly apiKey: number;
  readonly minVersion: number;
  readonly maxVersion: number;
}

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
    this.advertised = handlers
      .filter((h) => !INTER_BROKER_APIS.has(h.apiKey))
      .map((h) => ({
        apiKey: h.apiKey,
        minVersion: h.minVersion,
        // Never more than the emulated release speaks, so clients pick the same versions they would there.
        maxVersion: Math.min(h.maxVersion, release[h.apiKey]?.max ?? h.maxVersion),
      }))
      .sort((a, b) => a.apiKey - b.apiKey);
  }

  handleFrame(connection: ConnectionInfo, frame: Buffer): FrameResult | Promise<FrameResult> {
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
    if (connection.sasl && connection.sasl.stage !== 'authenticated' && !PRE_AUTH_APIS.has(header.apiKey)) {
      // Kafka disconnects a client that sends other requests before authenticating.
      this.services.log.warn(
        { conn: connection.connectionId, client: connection.clientAddress, apiKey: header.apiKey },
        'request before SASL authentication, closing connection',
      );
      return 'close';
    }
    const handler = this.handlers[header.apiKey];
    const range = INTER_BROKER_APIS.has(header.apiKey)
      ? connection.listenerName === this.services.config.interBrokerListener
        ? handler
        : undefined
      : this.advertised.find((a) => a.apiKey === header.apiKey);
    const versionOk =
      handler !== undefined &&
      range !== undefined &&
      header.apiVersion >= range.minVersion &&
      header.apiVersion <= range.maxVersion;
    if (!versionOk) return this.unsupported(header, connection);
    if (FORWARDED_APIS.has(header.apiKey) && !connection.forwarded && !this.services.isActiveController())
      return this.forward(connection, frame, header);

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
      apiVersion: header.apiVersion,
      correlationId: header.correlationId,
      clientId: header.clientId,
      connection,
      broker: this.services,
    };
    const result = handler.handle(request as never, ctx);
    // A metadata change is answered once every broker sees it: the client's next request may go
    // to any of them (read-after-write across the cluster).
    if (FORWARDED_APIS.has(header.apiKey))
      return Promise.resolve(result).then(async (r) => {
        await this.services.awaitMetadataPropagation();
        return this.respond(header, r, ctx);
      });
    if (result instanceof Promise) return result.then((r) => this.respond(header, r, ctx));
    return this.respond(header, result, ctx);
  }

  /** Answers a frame through these handlers, for the controller channel and forwarded requests. */
  async dispatch(connection: ConnectionInfo, frame: Buffer): Promise<Buffer[] | null> {
    const r = await this.handleFrame(connection, frame);
    if (r === null || r === 'close') return null;
    return Array.isArray(r) ? r : r.chunks;
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

  private respond(header: RequestHeaderInfo, body: unknown, ctx: RequestContext): FrameResult {
    if (body === null) return null;
    const chunks = encodeResponseFrame(
      header.apiKey as ApiKeyNumber,
      header.apiVersion,
      header.correlationId,
      body as never,
    );
    return ctx.closeAfterResponse ? { chunks, thenClose: true } : chunks;
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
      sasl.stage = 'authenticated';
      sasl.step = undefined;
      connection.principal = result.principal;
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
    const codec = API_CODEC_LIST[header.apiKey];
    if (!codec?.encodeResponse[header.apiVersion]) {
      this.services.log.warn(
        { conn: connection.connectionId, apiKey: header.apiKey, version: header.apiVersion },
        'request for an unknown API or version, closing connection',
      );
      return 'close';
    }
    const name = `default${codec.name}Response`;
    const makeDefault = (messages as unknown as Record<string, unknown>)[name] as
      | (() => Record<string, unknown>)
      | undefined;
    const body = makeDefault ? makeDefault() : {};
    if ('errorCode' in body) body.errorCode = ErrorCode.UNSUPPORTED_VERSION;
    return encodeResponseFrame(
      header.apiKey as ApiKeyNumber,
      header.apiVersion,
      header.correlationId,
      body as never,
    );
  }
}
