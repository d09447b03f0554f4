-- Several hosts (zone agents) per zone (issue 11, item 9). Each zone's one agent becomes its
-- `default` host with the zone's capacity, and every placement runs on it, so existing deployments
-- keep working; the zone keeps only its name.
CREATE TABLE "Host" (
    "zone" TEXT NOT NULL,
    "id" TEXT NOT NULL,
    "agentUrl" TEXT NOT NULL,
    "capacity" INTEGER NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'active',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "Host_pkey" PRIMARY KEY ("zone", "id"),
    CONSTRAINT "Host_zone_fkey" FOREIGN KEY ("zone") REFERENCES "Zone"("name") ON DELETE CASCADE ON UPDATE CASCADE
);

INSERT INTO "Host" ("zone", "id", "agentUrl", "capacity", "updatedAt")
SELECT "name", 'default', "agentUrl", "capacity", CURRENT_TIMESTAMP FROM "Zone";

ALTER TABLE "Zone" DROP COLUMN "capacity";
ALTER TABLE "Zone" DROP COLUMN "agentUrl";

ALTER TABLE "BrokerPlacement" ADD COLUMN "hostId" TEXT NOT NULL DEFAULT 'default';
DROP INDEX "BrokerPlacement_zone_idx";
CREATE INDEX "BrokerPlacement_zone_hostId_idx" ON "BrokerPlacement"("zone", "hostId");
