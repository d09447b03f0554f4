import { ProtocolError, ResponseError, UnsupportedApiError } from '@platformatic/kafka';
import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { AdminError } from '../src/admin/InstanceAdmin.js';
import { kafkaErrorType } from '../src/admin/kafkaErrors.js';

const {
  KafkaJSAggregateError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSServerDoesNotSupportApiKey,
} = kafkajs;

describe('kafkaErrorType reads the client libraries typed errors, not their messages', () => {
  it('kafkajs: protocol errors, aggregates, retry wrappers, missing APIs', () => {
    // kafkajs builds its protocol errors from the broker's error entry (type, code, retriable).
    const entry = Object.assign(new Error('x'), { type: 'TOPIC_ALREADY_EXISTS', code: 36, retriable: false });
    const exists = new KafkaJSProtocolError(entry);
    expect(kafkaErrorType(exists)).toBe('TOPIC_ALREADY_EXISTS');
    expect(kafkaErrorType(new KafkaJSAggregateError('many', [exists]))).toBe('TOPIC_ALREADY_EXISTS');
    expect(kafkaErrorType(new KafkaJSNumberOfRetriesExceeded(exists, { retryCount: 5, retryTime: 1 }))).toBe(
      'TOPIC_ALREADY_EXISTS',
    );
    expect(kafkaErrorType(new KafkaJSServerDoesNotSupportApiKey('no such API'))).toBe('UNSUPPORTED_VERSION');
  });

  it('@platformatic/kafka: protocol errors inside response errors, missing APIs', () => {
    expect(kafkaErrorType(new ProtocolError('UNSUPPORTED_VERSION'))).toBe('UNSUPPORTED_VERSION');
    expect(kafkaErrorType(new ResponseError(50, 0, { '/results/0': [35, null] }, {}))).toBe(
      'UNSUPPORTED_VERSION',
    );
    expect(kafkaErrorType(new UnsupportedApiError('Unsupported API DescribeUserScramCredentials.'))).toBe(
      'UNSUPPORTED_VERSION',
    );
  });

  it('AdminError keeps its classification; plain errors have none, whatever they say', () => {
    expect(kafkaErrorType(new AdminError('x', 'INVALID_CONFIG'))).toBe('INVALID_CONFIG');
    expect(kafkaErrorType(new Error('this API is not supported'))).toBeUndefined();
  });
});
