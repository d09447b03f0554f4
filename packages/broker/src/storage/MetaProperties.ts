import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseProperties } from '../config/PropertiesFile.js';
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
  const props = readMetaProperties(path);
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
  if (serialise(props) !== before) writeMetaProperties(path, props);
  const node = props.get('node.id');
  return {
    clusterId: props.get('cluster.id'),
    nodeId: node === undefined ? undefined : Number(node),
    directoryId: props.get('directory.id')!,
  };
}

function serialise(props: Map<string, string>): string {
  return [...props].map(([k, v]) => `${k}=${v}\n`).join('');
}

/**
 * The cluster id a dir's meta.properties names (Kafka keeps it with the data; so do we). When
 * it names none, `configured` (or a new id) is added to the file, keeping its other lines.
 */
export function readOrCreateClusterId(dir: string, configured: string | null): string {
  const path = join(dir, META_PROPERTIES_FILE);
  const props = readMetaProperties(path);
  const existing = props.get('cluster.id');
  if (existing !== undefined && existing !== '') {
    if (configured && configured !== existing)
      throw new Error(`cluster.id ${configured} does not match ${existing} in ${path}`);
    return existing;
  }
  const id = configured ?? randomUUID().replace(/-/g, '').slice(0, 22);
  if (!props.has('version')) props.set('version', '1');
  props.set('cluster.id', id);
  writeMetaProperties(path, props);
  return id;
}

function readMetaProperties(path: string): Map<string, string> {
  return existsSync(path) ? parseProperties(readFileSync(path, 'utf8')) : new Map<string, string>();
}

/** The one writer of meta.properties: temp file, fsync, rename, fsync of the dir. */
function writeMetaProperties(path: string, props: Map<string, string>): void {
  writeFileDurably(path, serialise(props));
}
