-- Autoscaling (issue 11, item 6): one policy per instance, read by the worker's autoscaler.
CREATE TABLE "AutoscalingPolicy" (
    "instanceId" TEXT NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "minBrokers" INTEGER NOT NULL,
    "maxBrokers" INTEGER NOT NULL,
    "minBandwidthMBps" INTEGER NOT NULL,
    "maxBandwidthMBps" INTEGER NOT NULL,
    "targetBandwidthPercent" INTEGER NOT NULL,
    "targetDiskPercent" INTEGER NOT NULL,
    "holdSeconds" INTEGER NOT NULL,
    "cooldownSeconds" INTEGER NOT NULL,
    "lastRefusal" TEXT,
    "lastRefusedAt" TIMESTAMP(3),
    "version" INTEGER NOT NULL DEFAULT 1,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "AutoscalingPolicy_pkey" PRIMARY KEY ("instanceId"),
    CONSTRAINT "AutoscalingPolicy_instanceId_fkey" FOREIGN KEY ("instanceId") REFERENCES "Instance"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "AutoscalingPolicy_brokers_check" CHECK ("minBrokers" <= "maxBrokers"),
    CONSTRAINT "AutoscalingPolicy_bandwidth_check" CHECK ("minBandwidthMBps" <= "maxBandwidthMBps")
);
