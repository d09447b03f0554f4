import type { ApiHandler } from '../ApiHandler.js';
import type { AdvertisedApi } from '../advertisedApis.js';
import { createAclsHandler, deleteAclsHandler, describeAclsHandler } from './acls.js';
import { apiVersionsHandler } from './apiVersions.js';
import {
  alterReplicaLogDirsHandler,
  deleteRecordsHandler,
  describeClusterHandler,
  describeLogDirsHandler,
  initProducerIdHandler,
  offsetForLeaderEpochHandler,
} from './cluster.js';
import {
  allocateProducerIdsHandler,
  alterPartitionHandler,
  alterPartitionReassignmentsHandler,
  assignReplicasToDirsHandler,
  brokerHeartbeatHandler,
  brokerRegistrationHandler,
  electLeadersHandler,
  envelopeHandler,
  listPartitionReassignmentsHandler,
  unregisterBrokerHandler,
} from './controllerApis.js';
import { fetchHandler } from './fetch.js';
import {
  deleteGroupsHandler,
  describeGroupsHandler,
  findCoordinatorHandler,
  heartbeatHandler,
  joinGroupHandler,
  leaveGroupHandler,
  listGroupsHandler,
  offsetCommitHandler,
  offsetDeleteHandler,
  offsetFetchHandler,
  syncGroupHandler,
} from './groups.js';
import { listOffsetsHandler } from './listOffsets.js';
import { metadataHandler } from './metadata.js';
import { produceHandler } from './produce.js';
import { alterClientQuotasHandler, describeClientQuotasHandler } from './quotas.js';
import { saslAuthenticateHandler, saslHandshakeHandler } from './sasl.js';
import { alterUserScramCredentialsHandler, describeUserScramCredentialsHandler } from './scram.js';
import {
  alterConfigsHandler,
  createPartitionsHandler,
  createTopicsHandler,
  deleteTopicsHandler,
  describeConfigsHandler,
  incrementalAlterConfigsHandler,
} from './topics.js';
import {
  describeProducersHandler,
  describeTransactionsHandler,
  listTransactionsHandler,
} from './transactionAdmin.js';
import {
  addOffsetsToTxnHandler,
  addPartitionsToTxnHandler,
  endTxnHandler,
  txnOffsetCommitHandler,
  writeTxnMarkersHandler,
} from './transactions.js';

/** Every API this broker serves. */
export function allHandlers(advertised: () => readonly AdvertisedApi[]): ApiHandler[] {
  return [
    produceHandler,
    fetchHandler,
    listOffsetsHandler,
    metadataHandler,
    offsetCommitHandler,
    offsetFetchHandler,
    findCoordinatorHandler,
    addPartitionsToTxnHandler,
    addOffsetsToTxnHandler,
    endTxnHandler,
    txnOffsetCommitHandler,
    writeTxnMarkersHandler,
    describeTransactionsHandler,
    listTransactionsHandler,
    describeProducersHandler,
    joinGroupHandler,
    heartbeatHandler,
    leaveGroupHandler,
    syncGroupHandler,
    describeGroupsHandler,
    listGroupsHandler,
    apiVersionsHandler(advertised),
    createTopicsHandler,
    deleteTopicsHandler,
    describeConfigsHandler,
    alterConfigsHandler,
    createPartitionsHandler,
    deleteGroupsHandler,
    incrementalAlterConfigsHandler,
    offsetDeleteHandler,
    deleteRecordsHandler,
    initProducerIdHandler,
    offsetForLeaderEpochHandler,
    describeLogDirsHandler,
    alterReplicaLogDirsHandler,
    describeClusterHandler,
    saslHandshakeHandler,
    saslAuthenticateHandler,
    describeAclsHandler,
    createAclsHandler,
    deleteAclsHandler,
    describeUserScramCredentialsHandler,
    alterUserScramCredentialsHandler,
    describeClientQuotasHandler,
    alterClientQuotasHandler,
    electLeadersHandler,
    alterPartitionReassignmentsHandler,
    listPartitionReassignmentsHandler,
    unregisterBrokerHandler,
    brokerRegistrationHandler,
    brokerHeartbeatHandler,
    alterPartitionHandler,
    allocateProducerIdsHandler,
    assignReplicasToDirsHandler,
    envelopeHandler,
  ] as ApiHandler[];
}
