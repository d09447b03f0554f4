import { ApiKey, ErrorCode } from '@fjord/protocol';

/**
 * The one place that decides how a broker without transactions answers transactional requests
 * (ADR 0016); real transactions replace this module.
 *
 * The transaction APIs are never advertised in ApiVersions (a handler for one stays hidden
 * until it is removed from this set), so a client that sends one anyway gets
 * UNSUPPORTED_VERSION. But no client looks at ApiVersions before starting a transaction: they
 * ask FindCoordinator for a TRANSACTION coordinator first, and COORDINATOR_NOT_AVAILABLE there
 * is retriable, so librdkafka, kafkajs and kafka-python retry until their own timeout.
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED is the answer all of them treat as fatal at once
 * (librdkafka raises a fatal error, kafkajs bails, the Java client and kafka-python fail the
 * transaction manager), and the message says why. InitProducerId without a transactional id
 * (idempotent producers) is unaffected.
 */
export const UNADVERTISED_TRANSACTION_APIS: ReadonlySet<number> = new Set([
  ApiKey.AddPartitionsToTxn,
  ApiKey.AddOffsetsToTxn,
  ApiKey.EndTxn,
  ApiKey.WriteTxnMarkers,
  ApiKey.TxnOffsetCommit,
  ApiKey.DescribeTransactions,
  ApiKey.ListTransactions,
]);

/** FindCoordinator(TRANSACTION) and InitProducerId(transactionalId) while transactions are unsupported. */
export const TRANSACTIONS_UNSUPPORTED = {
  errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
  errorMessage: 'Transactions are not supported by this broker (Fjord)',
} as const;
