-- CreateEnum
CREATE TYPE "PolicyEffect" AS ENUM ('ALLOW', 'DENY');
CREATE TYPE "InstanceStatus" AS ENUM ('CREATING', 'RUNNING', 'RESIZING', 'DELETING', 'DELETED', 'FAILED');
CREATE TYPE "OperationStatus" AS ENUM ('PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED');

-- CreateTable
CREATE TABLE "Account" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Account_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "SubAccount" (
    "id" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "SubAccount_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "Policy" (
    "id" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "effect" "PolicyEffect" NOT NULL,
    "actions" TEXT[],
    "resources" TEXT[],
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Policy_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "PolicyAttachment" (
    "policyId" TEXT NOT NULL,
    "subAccountId" TEXT NOT NULL,
    CONSTRAINT "PolicyAttachment_pkey" PRIMARY KEY ("policyId","subAccountId")
);

CREATE TABLE "ApiKey" (
    "id" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "subAccountId" TEXT,
    "secretHash" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revokedAt" TIMESTAMP(3),
    CONSTRAINT "ApiKey_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "Zone" (
    "name" TEXT NOT NULL,
    "capacity" INTEGER NOT NULL,
    CONSTRAINT "Zone_pkey" PRIMARY KEY ("name")
);

CREATE TABLE "Instance" (
    "id" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "zones" TEXT[],
    "brokerCount" INTEGER NOT NULL,
    "bandwidthMBps" INTEGER NOT NULL,
    "diskGiB" INTEGER NOT NULL,
    "partitionLimit" INTEGER NOT NULL,
    "defaultReplicationFactor" INTEGER NOT NULL DEFAULT 2,
    "kafkaVersion" TEXT NOT NULL,
    "status" "InstanceStatus" NOT NULL DEFAULT 'CREATING',
    "statusReason" TEXT,
    "deletionProtection" BOOLEAN NOT NULL DEFAULT false,
    "version" INTEGER NOT NULL DEFAULT 1,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "deletedAt" TIMESTAMP(3),
    CONSTRAINT "Instance_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "BrokerPlacement" (
    "instanceId" TEXT NOT NULL,
    "brokerId" INTEGER NOT NULL,
    "zone" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "port" INTEGER NOT NULL,
    "status" TEXT NOT NULL,
    CONSTRAINT "BrokerPlacement_pkey" PRIMARY KEY ("instanceId","brokerId")
);

CREATE TABLE "Operation" (
    "id" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "instanceId" TEXT,
    "kind" TEXT NOT NULL,
    "status" "OperationStatus" NOT NULL DEFAULT 'PENDING',
    "progress" JSONB NOT NULL DEFAULT '{}',
    "error" JSONB,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "Operation_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "AuditEvent" (
    "id" BIGSERIAL NOT NULL,
    "accountId" TEXT,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "resource" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "details" JSONB NOT NULL DEFAULT '{}',
    CONSTRAINT "AuditEvent_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "IdempotencyRecord" (
    "accountId" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "requestHash" TEXT NOT NULL,
    "response" JSONB NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "IdempotencyRecord_pkey" PRIMARY KEY ("accountId","key")
);

CREATE TABLE "MetadataLog" (
    "clusterId" TEXT NOT NULL,
    "offset" BIGINT NOT NULL,
    "record" JSONB NOT NULL,
    "appendedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "MetadataLog_pkey" PRIMARY KEY ("clusterId","offset")
);

CREATE TABLE "ControllerLease" (
    "clusterId" TEXT NOT NULL,
    "holderBrokerId" INTEGER NOT NULL,
    "epoch" BIGINT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "ControllerLease_pkey" PRIMARY KEY ("clusterId")
);

-- CreateIndex
CREATE UNIQUE INDEX "Account_name_key" ON "Account"("name");
CREATE UNIQUE INDEX "SubAccount_accountId_name_key" ON "SubAccount"("accountId", "name");
CREATE UNIQUE INDEX "Policy_accountId_name_key" ON "Policy"("accountId", "name");
CREATE INDEX "ApiKey_accountId_idx" ON "ApiKey"("accountId");
CREATE INDEX "Instance_accountId_idx" ON "Instance"("accountId");
CREATE INDEX "Operation_instanceId_createdAt_idx" ON "Operation"("instanceId", "createdAt");
CREATE INDEX "AuditEvent_accountId_at_idx" ON "AuditEvent"("accountId", "at");

-- AddForeignKey
ALTER TABLE "SubAccount" ADD CONSTRAINT "SubAccount_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "PolicyAttachment" ADD CONSTRAINT "PolicyAttachment_policyId_fkey" FOREIGN KEY ("policyId") REFERENCES "Policy"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "PolicyAttachment" ADD CONSTRAINT "PolicyAttachment_subAccountId_fkey" FOREIGN KEY ("subAccountId") REFERENCES "SubAccount"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "ApiKey" ADD CONSTRAINT "ApiKey_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "ApiKey" ADD CONSTRAINT "ApiKey_subAccountId_fkey" FOREIGN KEY ("subAccountId") REFERENCES "SubAccount"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "Instance" ADD CONSTRAINT "Instance_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "BrokerPlacement" ADD CONSTRAINT "BrokerPlacement_instanceId_fkey" FOREIGN KEY ("instanceId") REFERENCES "Instance"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "Operation" ADD CONSTRAINT "Operation_instanceId_fkey" FOREIGN KEY ("instanceId") REFERENCES "Instance"("id") ON DELETE SET NULL ON UPDATE CASCADE;
