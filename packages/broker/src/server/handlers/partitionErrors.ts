import type {
  DeleteRecordsResponseDeleteRecordsPartitionResultInput,
  ListOffsetsResponseListOffsetsPartitionResponseInput,
  OffsetFetchResponseOffsetFetchResponsePartitionInput,
  OffsetForLeaderEpochResponseEpochEndOffsetInput,
  ProduceResponsePartitionProduceResponseInput,
} from '@fjord/protocol';

// A failed partition's answer: the response type's "no value" fields (as Kafka fills them) with
// the error code. One builder per response type, so every handler answers a failure the same way.

export function producePartitionError(
  index: number,
  errorCode: number,
  message: string | null = null,
): ProduceResponsePartitionProduceResponseInput {
  return {
    index,
    errorCode,
    baseOffset: -1n,
    logAppendTimeMs: -1n,
    logStartOffset: -1n,
    recordErrors: [],
    errorMessage: message,
  };
}

export function listOffsetsPartitionError(
  partitionIndex: number,
  errorCode: number,
): ListOffsetsResponseListOffsetsPartitionResponseInput {
  return { partitionIndex, oldStyleOffsets: [], timestamp: -1n, offset: -1n, leaderEpoch: -1, errorCode };
}

export function deleteRecordsPartitionError(
  partitionIndex: number,
  errorCode: number,
): DeleteRecordsResponseDeleteRecordsPartitionResultInput {
  return { partitionIndex, lowWatermark: -1n, errorCode };
}

export function offsetFetchPartitionError(
  partitionIndex: number,
  errorCode: number,
): Required<OffsetFetchResponseOffsetFetchResponsePartitionInput> & { metadata: string } {
  return { partitionIndex, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode };
}

export function epochEndOffsetError(
  partition: number,
  errorCode: number,
): OffsetForLeaderEpochResponseEpochEndOffsetInput {
  return { partition, leaderEpoch: -1, endOffset: -1n, errorCode };
}
