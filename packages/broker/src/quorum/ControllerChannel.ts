import { type ApiMessageTypes, decodeResponseFrame, ErrorCode, encodeRequestFrame } from '@fjord/protocol';
import type { Logger } from 'pino';
import {
  type BrokerAddress,
  BrokerAuthenticationError,
  BrokerClient,
  BrokerRequestError,
} from '../network/BrokerClient.js';
import type { InterBrokerSecurity } from '../security/InterBrokerSecurity.js';
import { carriesErrorCode } from '../server/carriesErrorCode.js';

type Api = keyof ApiMessageTypes;

export interface ControllerChannelOptions {
  readonly brokerId: number;
  readonly requestTimeoutMs: number;
  /** Pause between attempts while the controller is unknown, moving, or unreachable. */
  readonly retryBackoffMs: number;
  /** How this broker connects to the controller (TLS, SASL), and where refusals are logged. */
  readonly security?: InterBrokerSecurity;
  readonly log?: Logger;
}

export interface ControllerLocator {
  /** The active controller's broker id, if known. */
  readonly controllerId: number | undefined;
  /** Whether this broker is the active controller right now. */
  readonly isActive: boolean;
  /** Look for the controller again (the last one failed us). */
  poke(): void;
}

/** Answers a request frame (size prefix removed) as this broker's own Kafka APIs would. */
export type LocalDispatch = (frame: Buffer) => Promise<Buffer[] | null>;

export class ControllerUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ControllerUnavailableError';
  }
}

/**
 * Requests from this broker to the active controller (registration, heartbeats, ISR changes,
 * producer id blocks, forwarded admin requests), in the Kafka protocol. When this broker is the
 * controller the request is dispatched locally through the same handlers, so one code path
 * serves both cases. A request that meets no controller (unknown, moving: NOT_CONTROLLER, or
 * unreachable) is retried until its deadline.
 */
export class ControllerChannel {
  private readonly client: BrokerClient;
  private connectedTo: number | undefined;

  constructor(
    private readonly locator: ControllerLocator,
    private readonly addressOf: (brokerId: number) => BrokerAddress | undefined,
    private readonly local: LocalDispatch,
    private readonly options: ControllerChannelOptions,
  ) {
    this.client = new BrokerClient(
      () => (this.connectedTo === undefined ? undefined : this.addressOf(this.connectedTo)),
      {
        clientId: `broker-${options.brokerId}-controller-channel`,
        connectTimeoutMs: options.requestTimeoutMs,
        requestTimeoutMs: options.requestTimeoutMs,
        maxResponseBytes: 100 * 1024 * 1024,
        security: options.security,
        log: options.log,
      },
    );
  }

  async send<K extends Api>(
    apiKey: K,
    version: number,
    body: ApiMessageTypes[K]['requestInput'],
    deadlineMs = this.options.requestTimeoutMs,
  ): Promise<ApiMessageTypes[K]['response']> {
    const giveUpAt = Date.now() + deadlineMs;
    let lastError = 'no active controller';
    for (;;) {
      try {
        const response = await this.sendOnce(apiKey, version, body);
        // NOT_CONTROLLER at the top or for any element (a controller that lost its lease mid-way).
        if (!carriesErrorCode(response, ErrorCode.NOT_CONTROLLER)) return response;
        lastError = 'NOT_CONTROLLER';
        this.locator.poke();
      } catch (e) {
        if (!(e instanceof BrokerRequestError) && !(e instanceof ControllerUnavailableError)) throw e;
        lastError = e.message;
        // A refused login means the controller is there; looking for another one would not help.
        if (!(e instanceof BrokerAuthenticationError)) this.locator.poke();
      }
      if (Date.now() + this.options.retryBackoffMs > giveUpAt)
        throw new ControllerUnavailableError(`controller request ${apiKey} failed: ${lastError}`);
      await new Promise((r) => setTimeout(r, this.options.retryBackoffMs));
    }
  }

  close(): void {
    this.client.close();
  }

  private async sendOnce<K extends Api>(
    apiKey: K,
    version: number,
    body: ApiMessageTypes[K]['requestInput'],
  ): Promise<ApiMessageTypes[K]['response']> {
    if (this.locator.isActive) {
      const frame = encodeRequestFrame(apiKey, version, 0, `broker-${this.options.brokerId}`, body);
      const chunks = await this.local(frame.subarray(4));
      if (!chunks) throw new ControllerUnavailableError('local controller sent no response');
      return decodeResponseFrame(apiKey, version, Buffer.concat(chunks).subarray(4)).body;
    }
    const controller = this.locator.controllerId;
    if (controller === undefined || controller === this.options.brokerId)
      throw new ControllerUnavailableError('no active controller known');
    if (this.connectedTo !== controller) {
      this.client.disconnect('controller changed');
      this.connectedTo = controller;
    }
    if (!this.addressOf(controller))
      throw new ControllerUnavailableError(
        `controller ${controller} has no registered inter-broker endpoint`,
      );
    return this.client.send(apiKey, version, body);
  }
}
