/**
 * Thrown by a handler for a request Kafka would refuse while parsing it (e.g. UNKNOWN enum
 * values in an ACL filter, pattern types a version cannot carry): KafkaApis logs the reason
 * and closes the connection without a response, as Kafka's network layer does.
 */
export class InvalidRequestError extends Error {
  override readonly name = 'InvalidRequestError';
}
