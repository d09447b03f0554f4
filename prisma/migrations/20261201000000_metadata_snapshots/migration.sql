-- Snapshots of a cluster's metadata image, so a broker starting (or far behind) loads the latest
-- one instead of replaying the whole metadata log, and the log can be trimmed below it.
CREATE TABLE "MetadataSnapshot" (
    "clusterId" TEXT NOT NULL,
    "offset" BIGINT NOT NULL,
    "records" JSONB NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "MetadataSnapshot_pkey" PRIMARY KEY ("clusterId","offset")
);
