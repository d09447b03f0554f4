-- A reset of a connector's offsets (PUT …/offsets, issue 14) marks the rows it writes: a starting task
-- prefers a marked row over the position the sink or target keeps itself (an exactly-once mirror's
-- offsets group, the PostgreSQL sink's table); the task's first commit of the partition clears it.
ALTER TABLE "ConnectorOffset" ADD COLUMN "resetPending" BOOLEAN NOT NULL DEFAULT false;
