import { chmod, writeFile } from 'node:fs/promises';

/**
 * Writes a file only its owner may read or write. The mode applies on creation only, so an
 * existing file (written by an older version) is tightened too.
 */
export async function writeSecretFile(path: string, content: string): Promise<void> {
  await writeFile(path, content, { mode: 0o600 });
  await chmod(path, 0o600);
}
