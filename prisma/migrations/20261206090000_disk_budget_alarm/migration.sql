-- Disk budget (issue 11, ADR 0008): built-in alarm policies, and the disk high-water one for every
-- instance that exists already (new instances get it when they are created). The values are
-- contracts' SYSTEM_ALARM_POLICIES as of this migration.
ALTER TABLE "AlarmPolicy" ADD COLUMN "system" BOOLEAN NOT NULL DEFAULT false;

INSERT INTO "AlarmPolicy"
  ("id", "accountId", "instanceId", "name", "metric", "scope", "comparison", "threshold",
   "durationSeconds", "severity", "channelIds", "system", "updatedAt")
SELECT 'alm-' || substr(md5(random()::text || i."id"), 1, 26), i."accountId", i."id", 'disk-high-water',
       'instance.disk_high_water_hits', '{}', '>', 0, 0, 'critical', '{}', true, now()
FROM "Instance" i
WHERE i."deletedAt" IS NULL
ON CONFLICT ("instanceId", "name") DO NOTHING;
