-- Connector workers that are alive (issue 14): each worker heartbeats its row, so workers know how
-- many share the tasks (a new worker gets its share) and Prometheus finds their metrics.
CREATE TABLE "ConnectWorker" (
    "id" TEXT NOT NULL,
    "metricsAddress" TEXT,
    "heartbeatAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "ConnectWorker_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "ConnectWorker_heartbeatAt_idx" ON "ConnectWorker"("heartbeatAt");
