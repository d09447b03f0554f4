-- Control plane (issue 6): operator keys, collaborator grants, zone agents, access routes,
-- operation intent, live-name uniqueness and one instance-wide operation at a time.
ALTER TYPE "InstanceStatus" ADD VALUE 'RESTARTING';

CREATE TABLE "OperatorKey" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "secretHash" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revokedAt" TIMESTAMP(3),
    CONSTRAINT "OperatorKey_pkey" PRIMARY KEY ("id")
);

ALTER TABLE "ApiKey" ADD COLUMN "description" TEXT;

CREATE TABLE "CollaboratorGrant" (
    "id" TEXT NOT NULL,
    "ownerAccountId" TEXT NOT NULL,
    "granteeAccountId" TEXT NOT NULL,
    "actions" TEXT[],
    "resources" TEXT[],
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "CollaboratorGrant_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "CollaboratorGrant_granteeAccountId_idx" ON "CollaboratorGrant"("granteeAccountId");
CREATE INDEX "CollaboratorGrant_ownerAccountId_idx" ON "CollaboratorGrant"("ownerAccountId");
ALTER TABLE "CollaboratorGrant" ADD CONSTRAINT "CollaboratorGrant_ownerAccountId_fkey" FOREIGN KEY ("ownerAccountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "CollaboratorGrant" ADD CONSTRAINT "CollaboratorGrant_granteeAccountId_fkey" FOREIGN KEY ("granteeAccountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "Policy" ADD CONSTRAINT "Policy_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "Zone" ADD COLUMN "agentUrl" TEXT NOT NULL DEFAULT '';

ALTER TABLE "Instance" ADD COLUMN "accessRoutes" JSONB NOT NULL DEFAULT '[]';
ALTER TABLE "Instance" ADD COLUMN "clusterId" TEXT;
-- Names are unique per account among instances that are not deleted (Prisma cannot express
-- partial indexes; the schema documents it).
CREATE UNIQUE INDEX "Instance_accountId_name_live_key" ON "Instance"("accountId", "name") WHERE "deletedAt" IS NULL;

ALTER TABLE "BrokerPlacement" ADD COLUMN "ports" JSONB NOT NULL DEFAULT '{}';
ALTER TABLE "BrokerPlacement" ADD COLUMN "dataDir" TEXT;
CREATE INDEX "BrokerPlacement_zone_idx" ON "BrokerPlacement"("zone");

ALTER TABLE "Operation" ADD COLUMN "target" TEXT NOT NULL DEFAULT '';
ALTER TABLE "Operation" ADD COLUMN "input" JSONB NOT NULL DEFAULT '{}';
ALTER TABLE "Operation" ADD COLUMN "actor" TEXT NOT NULL DEFAULT '';
ALTER TABLE "Operation" ADD COLUMN "instanceWide" BOOLEAN NOT NULL DEFAULT false;
CREATE INDEX "Operation_accountId_id_idx" ON "Operation"("accountId", "id");
-- At most one unfinished instance-wide operation per instance; the API checks first and answers
-- 409, this index makes a race between two API processes lose cleanly too.
CREATE UNIQUE INDEX "Operation_instanceId_active_wide_key" ON "Operation"("instanceId") WHERE "instanceWide" AND "status" IN ('PENDING', 'RUNNING');

ALTER TABLE "IdempotencyRecord" ADD COLUMN "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;
