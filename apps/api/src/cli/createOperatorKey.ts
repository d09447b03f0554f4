#!/usr/bin/env node
// Prints a new operator key pair (for `npm run service` and fleet tooling bootstrap).
import { newId } from '@fjord/contracts';
import { createPrismaClient } from '@fjord/db';
import { hashSecret, newSecret } from '../auth/secrets.js';

const prisma = createPrismaClient();
const secret = newSecret();
const id = newId('operatorKey');
await prisma.operatorKey.create({
  data: { id, name: process.argv[2] ?? 'operator', secretHash: hashSecret(secret) },
});
await prisma.$disconnect();
console.log(JSON.stringify({ keyId: id, secret }));
