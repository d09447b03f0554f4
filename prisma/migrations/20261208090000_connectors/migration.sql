-- Connectors (issue 14, ADR 0022): connectors of an instance, their tasks' leases, sink progress.
CREATE TABLE "Connector" (
    "id" TEXT NOT NULL,
    "instanceId" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "config" JSONB NOT NULL,
    "sealedSecrets" TEXT NOT NULL,
    "secretNames" TEXT[],
    "desiredState" TEXT NOT NULL DEFAULT 'RUNNING',
    "tasksMax" INTEGER NOT NULL,
    "generation" INTEGER NOT NULL DEFAULT 0,
    "version" INTEGER NOT NULL DEFAULT 1,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "Connector_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "Connector_instanceId_fkey" FOREIGN KEY ("instanceId") REFERENCES "Instance"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "Connector_instanceId_name_key" ON "Connector"("instanceId", "name");

CREATE TABLE "ConnectorTask" (
    "connectorId" TEXT NOT NULL,
    "task" INTEGER NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'UNASSIGNED',
    "reason" TEXT,
    "workerId" TEXT,
    "leaseExpiresAt" TIMESTAMP(3),
    "leaseEpoch" INTEGER NOT NULL DEFAULT 0,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "ConnectorTask_pkey" PRIMARY KEY ("connectorId", "task"),
    CONSTRAINT "ConnectorTask_connectorId_fkey" FOREIGN KEY ("connectorId") REFERENCES "Connector"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "ConnectorTask_leaseExpiresAt_idx" ON "ConnectorTask"("leaseExpiresAt");

CREATE TABLE "ConnectorOffset" (
    "connectorId" TEXT NOT NULL,
    "topic" TEXT NOT NULL,
    "partition" INTEGER NOT NULL,
    "offset" BIGINT NOT NULL,
    "pendingFirst" BIGINT,
    "pendingLast" BIGINT,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "ConnectorOffset_pkey" PRIMARY KEY ("connectorId", "topic", "partition"),
    CONSTRAINT "ConnectorOffset_connectorId_fkey" FOREIGN KEY ("connectorId") REFERENCES "Connector"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
