import { createAPI, type Reader, Writer } from '@platformatic/kafka';

/*
  ElectLeaders v2 (flexible), which neither kafkajs nor @platformatic/kafka speak:
  Request  => election_type:INT8 topic_partitions:COMPACT_NULLABLE_ARRAY timeout_ms:INT32 TAG_BUFFER
  Response => throttle_time_ms:INT32 error_code:INT16
              [topic:COMPACT_STRING [partition_id:INT32 error_code:INT16 error_message:COMPACT_NULLABLE_STRING]]
*/
export interface ElectLeadersResult {
  readonly errorCode: number;
  readonly partitions: { topic: string; partition: number; errorCode: number }[];
}

function createRequest(electionType: number, timeoutMs: number): Writer {
  // A null topic list means every partition of the cluster.
  return Writer.create()
    .appendInt8(electionType)
    .appendUnsignedVarInt(0)
    .appendInt32(timeoutMs)
    .appendTaggedFields();
}

function parseResponse(_correlationId: number, _apiKey: number, _apiVersion: number, reader: Reader) {
  reader.readInt32();
  const errorCode = reader.readInt16();
  const partitions: ElectLeadersResult['partitions'] = [];
  reader.readArray((r) => {
    const topic = r.readString();
    r.readArray((rr) => {
      const partition = rr.readInt32();
      const code = rr.readInt16();
      rr.readNullableString();
      partitions.push({ topic, partition, errorCode: code });
    });
  });
  return { errorCode, partitions } satisfies ElectLeadersResult;
}

export const electLeadersV2 = createAPI<[number, number], ElectLeadersResult>(
  43,
  2,
  createRequest,
  parseResponse,
);
