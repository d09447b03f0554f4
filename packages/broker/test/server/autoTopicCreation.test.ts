/**
 * Topic auto-creation from Metadata, as Kafka's AutoTopicCreationManager: the missing topics go to
 * the controller in ONE CreateTopics in the background, a topic being created is not requested
 * again, and the request is answered within a moment (the topics, or LEADER_NOT_AVAILABLE for
 * those still being created). librdkafka's 0042_many_topics met the old way (one creation after another, each waited
 * for, inside the Metadata request) as a request timeout on a loaded machine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker, resolveBrokerConfig } from '@fjord/broker';
import { ApiKey, ErrorCode, ZERO_UUID } from '@fjord/protocol';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient } from './rawClient.js';

const lines: { msg?: string; topics?: unknown }[] = [];
const sentRequests = () =>
  lines.filter((l) => l.msg === 'sent auto-creation request to the active controller');
let broker: Broker;
let dir: string;
let client: RawClient;

function metadata(topics: readonly string[], version = 12, allowAutoTopicCreation = true) {
  return client.send(ApiKey.Metadata, version, {
    topics: topics.map((name) => ({ name, topicId: ZERO_UUID })),
    allowAutoTopicCreation,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false,
  });
}

const errors = (r: Awaited<ReturnType<typeof metadata>>) =>
  Object.fromEntries(r.topics.map((t) => [t.name, t.errorCode]));
const every = (names: readonly string[], code: number) => Object.fromEntries(names.map((n) => [n, code]));

/** Asks again until every topic is answered without error, as a client retrying Metadata does. */
async function untilCreated(names: readonly string[]) {
  for (;;) {
    const r = await metadata(names);
    if (r.topics.every((t) => t.errorCode === ErrorCode.NONE)) return r;
    await new Promise((res) => setTimeout(res, 50));
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fjord-autocreate-'));
  broker = await Broker.start(
    resolveBrokerConfig({
      overrides: new Map([
        ['listeners', 'PLAINTEXT://127.0.0.1:0'],
        ['log.dirs', dir],
        ['num.partitions', '1'],
        ['fjord.instance.partition.limit', '25'],
      ]),
    }),
    pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s)) }),
  );
  client = await RawClient.connect(broker.port());
});

afterAll(async () => {
  client?.close();
  await broker?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('auto-creation from Metadata', () => {
  it('answers 20 new topics in one response and creates them with one request', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `many-${String(i).padStart(2, '0')}`);
    const first = await metadata(names);
    // Each is either created already (the answer waits a moment) or still being created.
    for (const t of first.topics)
      expect([t.errorCode, t.partitions.length]).toSatisfy(
        ([code, partitions]: number[]) =>
          (code === ErrorCode.NONE && partitions === 1) ||
          (code === ErrorCode.LEADER_NOT_AVAILABLE && partitions === 0),
      );
    // Asked again at once (a client's retry), while the creation may still be under way.
    const again = await metadata(names);
    for (const t of again.topics)
      expect([ErrorCode.LEADER_NOT_AVAILABLE, ErrorCode.NONE]).toContain(t.errorCode);

    const created = await untilCreated(names);
    expect(created.topics.map((t) => [t.name, t.partitions.length])).toEqual(names.map((n) => [n, 1]));
    // One CreateTopics to the controller named all 20; the retries asked for none of them again.
    expect(sentRequests().map((l) => l.topics)).toEqual([names]);
  });

  it('a topic the controller refused is unknown at the next Metadata, which tries again', async () => {
    // 20 of the instance's 25 partitions are used: 5 more one-partition topics fit, the rest not.
    const names = Array.from({ length: 8 }, (_, i) => `over-${i}`);
    const first = errors(await metadata(names));
    for (const n of names.slice(0, 5))
      expect([ErrorCode.NONE, ErrorCode.LEADER_NOT_AVAILABLE]).toContain(first[n]);
    // Refused, but the answer was given before the refusal came: it says "being created".
    expect(names.slice(5).map((n) => first[n])).toEqual(
      names.slice(5).map(() => ErrorCode.LEADER_NOT_AVAILABLE),
    );
    await broker.services.autoTopicCreation.idle();
    const after = errors(await metadata(names));
    expect(after).toEqual({
      ...every(names.slice(0, 5), ErrorCode.NONE),
      ...every(names.slice(5), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
    });
    // That Metadata tried the refused ones again (and the partition limit refused them again).
    expect(sentRequests().at(-1)?.topics).toEqual(names.slice(5));
    const refusals = lines.filter((l) => l.msg === 'auto-creation refused by the controller');
    expect(refusals[0]?.topics).toEqual(
      names.slice(5).map((topic) => ({ topic, errorCode: ErrorCode.POLICY_VIOLATION })),
    );
    await broker.services.autoTopicCreation.idle();
  });

  it('creates nothing when the request or the topic does not allow it, and says why as Kafka does', async () => {
    const before = sentRequests().length;
    const r = await metadata(['not-allowed', 'bad/name', '__transaction_state'], 12, false);
    expect(errors(r)).toEqual({
      'not-allowed': ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      'bad/name': ErrorCode.INVALID_TOPIC_EXCEPTION,
      __transaction_state: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    });
    // Allowed, but an invalid name and an internal topic are never auto-created.
    const allowed = await metadata(['bad/name', '__transaction_state']);
    expect(errors(allowed)).toEqual({
      'bad/name': ErrorCode.INVALID_TOPIC_EXCEPTION,
      __transaction_state: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    });
    expect(sentRequests().length).toBe(before);
    expect(broker.services.autoTopicCreation.creating.size).toBe(0);
  });

  it('Metadata v0-v3 (no flag: the broker decides) create the same way', async () => {
    const before = sentRequests().length;
    const r = await metadata(['old-client'], 3);
    expect([ErrorCode.NONE, ErrorCode.LEADER_NOT_AVAILABLE]).toContain(errors(r)['old-client']);
    expect(
      sentRequests()
        .slice(before)
        .map((l) => l.topics),
    ).toEqual([['old-client']]);
    await broker.services.autoTopicCreation.idle();
  });
});
