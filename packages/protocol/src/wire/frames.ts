import {
  API_CODEC_LIST,
  API_CODECS,
  type ApiMessageTypes,
  requestHeaderVersion,
  responseHeaderVersion,
} from '../generated/api.js';
import { ProtocolDecodeError } from './ProtocolDecodeError.js';
import { Reader } from './Reader.js';
import { Writer } from './Writer.js';

export interface RequestHeaderInfo {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
  readonly clientId: string | null;
  /** Bytes the header takes at the start of the frame; the body follows. */
  readonly headerSize: number;
}

/**
 * Reads the request header at the start of a frame (size prefix removed). The client id is
 * an int16-length string in every header version; header v2 adds a tagged-field section.
 * For API keys this broker does not know, the header is read as v1 so the correlation id can
 * still be answered.
 */
export function decodeRequestHeader(frame: Buffer): RequestHeaderInfo {
  const r = new Reader(frame);
  const apiKey = r.int16();
  const apiVersion = r.int16();
  const correlationId = r.int32();
  const version = requestHeaderVersion(apiKey, apiVersion);
  let clientId: string | null = null;
  if (version >= 1) clientId = r.nullableString();
  if (version >= 2) r.skipTaggedFields();
  return { apiKey, apiVersion, correlationId, clientId, headerSize: r.pos };
}

type Api = keyof ApiMessageTypes;

/** Decodes the body of a request frame whose header was read with decodeRequestHeader. */
export function decodeRequestBody<K extends Api>(
  header: RequestHeaderInfo & { apiKey: K },
  frame: Buffer,
): ApiMessageTypes[K]['request'] {
  const codec = API_CODECS[header.apiKey];
  const decode = codec.decodeRequest[header.apiVersion];
  if (!decode)
    throw new ProtocolDecodeError(`unsupported version ${header.apiVersion} of API ${header.apiKey}`);
  return decode(new Reader(frame, header.headerSize)) as ApiMessageTypes[K]['request'];
}

/** Size prefix + response header + body, as chunks ready to be written to the socket. */
export function encodeResponseFrame<K extends Api>(
  apiKey: K,
  apiVersion: number,
  correlationId: number,
  body: ApiMessageTypes[K]['responseInput'],
): Buffer[] {
  const w = new Writer(512);
  const setSize = w.reserveInt32();
  w.int32(correlationId);
  if (responseHeaderVersion(apiKey, apiVersion) >= 1) w.uvarint(0);
  const encode = API_CODECS[apiKey].encodeResponse[apiVersion];
  if (!encode) throw new RangeError(`no encoder for version ${apiVersion} of API ${apiKey}`);
  encode(w, body);
  setSize(w.length - 4);
  return w.finish();
}

/** Size prefix + request header + body (for our own clients and tests). */
export function encodeRequestFrame<K extends Api>(
  apiKey: K,
  apiVersion: number,
  correlationId: number,
  clientId: string | null,
  body: ApiMessageTypes[K]['requestInput'],
): Buffer {
  const w = new Writer(512);
  const setSize = w.reserveInt32();
  const headerVersion = requestHeaderVersion(apiKey, apiVersion);
  w.int16(apiKey).int16(apiVersion).int32(correlationId);
  if (headerVersion >= 1) w.nullableString(clientId);
  if (headerVersion >= 2) w.uvarint(0);
  const encode = API_CODECS[apiKey].encodeRequest[apiVersion];
  if (!encode) throw new RangeError(`no encoder for version ${apiVersion} of API ${apiKey}`);
  encode(w, body);
  setSize(w.length - 4);
  return w.toBuffer();
}

/** Decodes a response frame (size prefix removed) for the given request. */
export function decodeResponseFrame<K extends Api>(
  apiKey: K,
  apiVersion: number,
  frame: Buffer,
): { correlationId: number; body: ApiMessageTypes[K]['response'] } {
  const r = new Reader(frame);
  const correlationId = r.int32();
  if (responseHeaderVersion(apiKey, apiVersion) >= 1) r.skipTaggedFields();
  const decode = API_CODEC_LIST[apiKey]?.decodeResponse[apiVersion];
  if (!decode) throw new ProtocolDecodeError(`unsupported version ${apiVersion} of API ${apiKey}`);
  return { correlationId, body: decode(r) as ApiMessageTypes[K]['response'] };
}
