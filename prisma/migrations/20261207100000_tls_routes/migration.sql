-- TLS on access routes (issue 12): the deployment's CA, each broker's certificate per TLS listener,
-- and the bundle each instance's clients should trust.
CREATE TABLE "CertificateAuthority" (
    "id" TEXT NOT NULL,
    "certificatePem" TEXT NOT NULL,
    "sealedKey" TEXT NOT NULL,
    "notBefore" TIMESTAMP(3) NOT NULL,
    "notAfter" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "CertificateAuthority_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "BrokerCertificate" (
    "instanceId" TEXT NOT NULL,
    "brokerId" INTEGER NOT NULL,
    "listener" TEXT NOT NULL,
    "serial" TEXT NOT NULL,
    "issuerId" TEXT NOT NULL,
    "certificatePem" TEXT NOT NULL,
    "sealedKey" TEXT NOT NULL,
    "hosts" TEXT[],
    "notBefore" TIMESTAMP(3) NOT NULL,
    "notAfter" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "BrokerCertificate_pkey" PRIMARY KEY ("instanceId", "brokerId", "listener"),
    CONSTRAINT "BrokerCertificate_instanceId_fkey" FOREIGN KEY ("instanceId") REFERENCES "Instance"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "BrokerCertificate_issuerId_fkey" FOREIGN KEY ("issuerId") REFERENCES "CertificateAuthority"("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
CREATE INDEX "BrokerCertificate_notAfter_idx" ON "BrokerCertificate"("notAfter");

-- Stored routes gain their allowlist (everyone, as before), and public routes become TLS: a public
-- route without TLS is no longer offered. Brokers take the new routes at their next restart.
UPDATE "Instance" SET "accessRoutes" = (
    SELECT jsonb_agg(
        CASE WHEN r->>'type' = 'public' AND r->>'securityProtocol' = 'SASL_PLAINTEXT'
             THEN r || '{"securityProtocol": "SASL_SSL"}' ELSE r END
        || CASE WHEN r ? 'allowedCidrs' THEN '{}'::jsonb ELSE '{"allowedCidrs": ["0.0.0.0/0", "::/0"]}'::jsonb END
        ORDER BY ord)
    FROM jsonb_array_elements("accessRoutes") WITH ORDINALITY AS e(r, ord)
) WHERE jsonb_array_length("accessRoutes") > 0;
