-- Self-healing (issue 11): the health the reconciler observes, per instance and per broker.
ALTER TABLE "Instance" ADD COLUMN "health" TEXT NOT NULL DEFAULT 'unknown';
ALTER TABLE "Instance" ADD COLUMN "healthReason" TEXT;
ALTER TABLE "Instance" ADD COLUMN "healthCheckedAt" TIMESTAMP(3);
ALTER TABLE "BrokerPlacement" ADD COLUMN "observedState" TEXT;
ALTER TABLE "BrokerPlacement" ADD COLUMN "restarts" INTEGER NOT NULL DEFAULT 0;
