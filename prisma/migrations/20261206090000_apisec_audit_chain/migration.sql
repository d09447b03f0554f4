-- Audit (issue 12): outcomes, per-account event ids and a hash chain per account.
CREATE TYPE "AuditOutcome" AS ENUM ('SUCCEEDED', 'DENIED', 'FAILED');

ALTER TABLE "AuditEvent"
  ADD COLUMN "chain" TEXT,
  ADD COLUMN "seq" BIGINT,
  ADD COLUMN "outcome" "AuditOutcome" NOT NULL DEFAULT 'SUCCEEDED',
  ADD COLUMN "prevHash" TEXT,
  ADD COLUMN "hash" TEXT;

-- Existing events keep their order within their account; they stay unhashed (a chain's legacy prefix).
UPDATE "AuditEvent" e
SET "chain" = n."chain", "seq" = n."seq"
FROM (
  SELECT "id", COALESCE("accountId", 'platform') AS "chain",
         row_number() OVER (PARTITION BY COALESCE("accountId", 'platform') ORDER BY "id") AS "seq"
  FROM "AuditEvent"
) n
WHERE n."id" = e."id";

ALTER TABLE "AuditEvent" DROP CONSTRAINT "AuditEvent_pkey";
ALTER TABLE "AuditEvent" DROP COLUMN "id";
ALTER TABLE "AuditEvent" ALTER COLUMN "chain" SET NOT NULL, ALTER COLUMN "seq" SET NOT NULL;
ALTER TABLE "AuditEvent" ADD CONSTRAINT "AuditEvent_pkey" PRIMARY KEY ("chain", "seq");
CREATE INDEX "AuditEvent_at_idx" ON "AuditEvent"("at");

CREATE TABLE "AuditChainHead" (
    "chain" TEXT NOT NULL,
    "seq" BIGINT NOT NULL,
    "hash" TEXT,
    CONSTRAINT "AuditChainHead_pkey" PRIMARY KEY ("chain")
);
INSERT INTO "AuditChainHead" ("chain", "seq", "hash")
SELECT "chain", max("seq"), NULL FROM "AuditEvent" GROUP BY "chain";
