-- Each instance's brokers reach only their own metadata (ADR 0013): the worker gives a new instance
-- a schema and login role of its own and records the role's name here. Instances created before
-- keep null and go on using the shared public tables.
ALTER TABLE "Instance" ADD COLUMN "metadataRole" TEXT;
