import { UnsupportedApiError } from '@platformatic/kafka';
import kafkajs from 'kafkajs';

const { KafkaJSServerDoesNotSupportApiKey } = kafkajs;

/**
 * The Kafka error name (UNSUPPORTED_VERSION, TOPIC_ALREADY_EXISTS, …) that a client library's
 * error carries, read from the libraries' typed errors rather than from their messages:
 * kafkajs's KafkaJSProtocolError.type and @platformatic/kafka's ProtocolError.apiId, also inside
 * aggregates (errors), retry wrappers (originalError) and causes. A broker without the API at
 * all (kafkajs's KafkaJSServerDoesNotSupportApiKey, platformatic's UnsupportedApiError) is
 * UNSUPPORTED_VERSION, as Kafka would answer a version it does not have.
 */
export function kafkaErrorType(e: unknown, depth = 0): string | undefined {
  if (!(e instanceof Error) || depth > 4) return undefined;
  if (e instanceof UnsupportedApiError || e instanceof KafkaJSServerDoesNotSupportApiKey)
    return 'UNSUPPORTED_VERSION';
  const fields = e as Error & {
    type?: unknown;
    apiId?: unknown;
    kafkaType?: unknown;
    errors?: unknown[];
    originalError?: unknown;
  };
  for (const own of [fields.kafkaType, fields.type, fields.apiId]) if (typeof own === 'string') return own;
  for (const inner of [
    ...(Array.isArray(fields.errors) ? fields.errors : []),
    fields.originalError,
    e.cause,
  ]) {
    const found = kafkaErrorType(inner, depth + 1);
    if (found) return found;
  }
  return undefined;
}
