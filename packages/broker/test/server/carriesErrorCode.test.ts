import { ErrorCode } from '@fjord/protocol';
import { describe, expect, it } from 'vitest';
import { carriesErrorCode } from '../../src/server/carriesErrorCode.js';

describe('carriesErrorCode (what the controller channel retries on)', () => {
  it('finds the code at the top level of a response', () => {
    expect(
      carriesErrorCode({ errorCode: ErrorCode.NOT_CONTROLLER, brokerEpoch: -1n }, ErrorCode.NOT_CONTROLLER),
    ).toBe(true);
  });

  it('finds the code for one topic among others (a CreateTopics answer)', () => {
    const response = {
      throttleTimeMs: 0,
      topics: [
        { name: 'a', errorCode: ErrorCode.NONE, configs: [] },
        { name: 'b', errorCode: ErrorCode.NOT_CONTROLLER, configs: [] },
      ],
    };
    expect(carriesErrorCode(response, ErrorCode.NOT_CONTROLLER)).toBe(true);
  });

  it('finds the code for a partition nested under a topic', () => {
    const response = {
      topics: [{ name: 't', partitions: [{ partitionIndex: 0, errorCode: ErrorCode.NOT_CONTROLLER }] }],
    };
    expect(carriesErrorCode(response, ErrorCode.NOT_CONTROLLER)).toBe(true);
  });

  it('does not count other codes, other fields with the value, or bytes', () => {
    const response = {
      throttleTimeMs: 41,
      errorCode: ErrorCode.NONE,
      topics: [{ name: 't', errorCode: ErrorCode.TOPIC_ALREADY_EXISTS, numPartitions: 41 }],
      responseData: Buffer.from([0, 41, 0, 41]),
    };
    expect(carriesErrorCode(response, ErrorCode.NOT_CONTROLLER)).toBe(false);
  });
});
