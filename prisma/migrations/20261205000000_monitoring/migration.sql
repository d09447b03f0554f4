-- Observability (issue 10): broker metrics endpoints, notification channels, alarm policies,
-- alarm events and their notification outbox.
ALTER TABLE "BrokerPlacement" ADD COLUMN "metricsPort" INTEGER;

CREATE TABLE "NotificationChannel" (
    "id" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "sealedSecret" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deletedAt" TIMESTAMP(3),
    CONSTRAINT "NotificationChannel_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "NotificationChannel_accountId_idx" ON "NotificationChannel"("accountId");
CREATE UNIQUE INDEX "NotificationChannel_accountId_name_live_key" ON "NotificationChannel"("accountId", "name") WHERE "deletedAt" IS NULL;

CREATE TABLE "AlarmPolicy" (
    "id" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "instanceId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "metric" TEXT NOT NULL,
    "scope" JSONB NOT NULL DEFAULT '{}',
    "comparison" TEXT NOT NULL,
    "threshold" DOUBLE PRECISION NOT NULL,
    "durationSeconds" INTEGER NOT NULL,
    "severity" TEXT NOT NULL,
    "channelIds" TEXT[],
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "muted" BOOLEAN NOT NULL DEFAULT false,
    "version" INTEGER NOT NULL DEFAULT 1,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "AlarmPolicy_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "AlarmPolicy_instanceId_name_key" ON "AlarmPolicy"("instanceId", "name");
CREATE INDEX "AlarmPolicy_accountId_idx" ON "AlarmPolicy"("accountId");

CREATE TABLE "AlarmEvent" (
    "id" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "instanceId" TEXT NOT NULL,
    "policyId" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "severity" TEXT NOT NULL,
    "labels" JSONB NOT NULL DEFAULT '{}',
    "value" DOUBLE PRECISION,
    "startsAt" TIMESTAMP(3) NOT NULL,
    "endsAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "AlarmEvent_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "AlarmEvent_policyId_fingerprint_startsAt_key" ON "AlarmEvent"("policyId", "fingerprint", "startsAt");
CREATE INDEX "AlarmEvent_instanceId_startsAt_idx" ON "AlarmEvent"("instanceId", "startsAt");
ALTER TABLE "AlarmEvent" ADD CONSTRAINT "AlarmEvent_policyId_fkey" FOREIGN KEY ("policyId") REFERENCES "AlarmPolicy"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "AlarmNotification" (
    "id" TEXT NOT NULL,
    "eventId" TEXT NOT NULL,
    "channelId" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastError" TEXT,
    "responseStatus" INTEGER,
    "deliveredAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "AlarmNotification_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "AlarmNotification_eventId_channelId_state_key" ON "AlarmNotification"("eventId", "channelId", "state");
CREATE INDEX "AlarmNotification_status_nextAttemptAt_idx" ON "AlarmNotification"("status", "nextAttemptAt");
ALTER TABLE "AlarmNotification" ADD CONSTRAINT "AlarmNotification_eventId_fkey" FOREIGN KEY ("eventId") REFERENCES "AlarmEvent"("id") ON DELETE CASCADE ON UPDATE CASCADE;
