import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileDurably } from './FileIO.js';

export const META_PROPERTIES_FILE = 'meta.properties';

/** What a log dir's `meta.properties` says about whose data it holds (KRaft layout, KIP-858). */
export interface MetaProperties {
  readonly clusterId?: string;
  readonly nodeId?: number;
  /** Identifies the directory itself, so a disk moved between mounts is still recognised. */
  readonly directoryId: string;
}

/**
 * Reads a log dir's meta.properties, adding what is missing (version, directory.id, and the
 * given cluster and node ids) and keeping every other line. A file naming another cluster or
 * node is refused: the disk belongs to someone else.
 */
export function ensureMetaProperties(
  dir: string,
  expected: { clusterId?: string; nodeId?: number },
): MetaProperties {
  const path = join(dir, META_PROPERTIES_FILE);
  const props = existsSync(path) ? parseProperties(readFileSync(path, 'utf8')) : new Map<string, string>();
  const clusterId = props.get('cluster.id');
  if (expected.clusterId !== undefined && clusterId !== undefined && clusterId !== expected.clusterId)
    throw new Error(`${path} belongs to cluster ${clusterId}, not ${expected.clusterId}`);
  const nodeId = props.get('node.id');
  if (expected.nodeId !== undefined && nodeId !== undefined && Number(nodeId) !== expected.nodeId)
    throw new Error(`${path} belongs to node ${nodeId}, not ${expected.nodeId}`);
  const before = serialise(props);
  if (!props.has('version')) props.set('version', '1');
  if (expected.clusterId !== undefined && clusterId === undefined)
    props.set('cluster.id', expected.clusterId);
  if (expected.nodeId !== undefined && nodeId === undefined) props.set('node.id', String(expected.nodeId));
  // Kafka's directory ids are base64url UUIDs; any unique string serves the same purpose.
  if (!props.has('directory.id')) props.set('directory.id', randomUUID());
  const after = serialise(props);
  if (after !== before) writeFileDurably(path, after);
  const node = props.get('node.id');
  return {
    clusterId: props.get('cluster.id'),
    nodeId: node === undefined ? undefined : Number(node),
    directoryId: props.get('directory.id')!,
  };
}

function parseProperties(text: string): Map<string, string> {
  const props = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const eq = line.search(/[=:]/);
    if (eq < 0) continue;
    props.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return props;
}

function serialise(props: Map<string, string>): string {
  return [...props].map(([k, v]) => `${k}=${v}\n`).join('');
}
