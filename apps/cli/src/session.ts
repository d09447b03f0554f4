import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export interface Credentials {
  readonly api: string;
  readonly keyId: string;
  readonly secret: string;
  token?: string;
  tokenExpiresAt?: number;
}

export function credentialsPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.FJORD_CONFIG ?? join(homedir(), '.config', 'fjord', 'credentials.json');
}

export function loadCredentials(path = credentialsPath()): Credentials | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Credentials;
  } catch {
    return undefined;
  }
}

export function saveCredentials(c: Credentials, path = credentialsPath()): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(c, null, 2)}\n`, { mode: 0o600 });
}
