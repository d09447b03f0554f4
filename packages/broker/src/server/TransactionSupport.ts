import { ErrorCode } from '@fjord/protocol';

/**
 * The one place that decides how a broker without transactions answers transactional requests
 * (ADR 0016). The transactional APIs (AddPartitionsToTxn, AddOffsetsToTxn, EndTxn,
 * TxnOffsetCommit, ...) have no handler, so ApiVersions never advertises them; but no client
 * looks there before starting a transaction: they ask FindCoordinator for a TRANSACTION
 * coordinator first. COORDINATOR_NOT_AVAILABLE there is retriable, so librdkafka, kafkajs and
 * kafka-python retry until their own timeout. TRANSACTIONAL_ID_AUTHORIZATION_FAILED is the one
 * answer all of them treat as fatal at once (librdkafka raises a fatal error, kafkajs and the
 * Java client do not retry it), and the error message says why. Real transactions replace this
 * module: delete it and answer with a coordinator.
 */
export const TRANSACTIONS_UNSUPPORTED = {
  errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
  errorMessage: 'Transactions are not supported by this broker (Fjord)',
} as const;
