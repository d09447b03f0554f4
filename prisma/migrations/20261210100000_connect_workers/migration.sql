-- Connector workers that are alive (issue 14): each worker heartbeats its row, so workers know how
-- many share the tasks (a new worker gets its share) and Prometheus finds their metrics.
CREATE TABLE "ConnectWorkerHeartbeat" (
    "id" TEXT NOT NULL,
    "metricsAddress" TEXT,
    "heartbeatAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "ConnectWorkerHeartbeat_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "ConnectWorkerHeartbeat_heartbeatAt_idx" ON "ConnectWorkerHeartbeat"("heartbeatAt");
