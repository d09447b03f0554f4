-- Mirror offset translation (issue 14): runs of mirrored records with a constant source → target
-- offset distance, per partition, so committed group offsets on the source translate exactly.
CREATE TABLE "MirrorOffsetRun" (
    "connectorId" TEXT NOT NULL,
    "topic" TEXT NOT NULL,
    "partition" INTEGER NOT NULL,
    "sourceStart" BIGINT NOT NULL,
    "sourceEnd" BIGINT NOT NULL,
    "targetStart" BIGINT NOT NULL,
    CONSTRAINT "MirrorOffsetRun_pkey" PRIMARY KEY ("connectorId", "topic", "partition", "sourceStart"),
    CONSTRAINT "MirrorOffsetRun_connectorId_fkey" FOREIGN KEY ("connectorId") REFERENCES "Connector"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
