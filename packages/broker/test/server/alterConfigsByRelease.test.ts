import { ErrorCode } from '@fjord/protocol';
import { describe, expect, it } from 'vitest';
import {
  legacyAlterConfigEntries,
  legacyAlterConfigsRefusesDuplicates,
  listenerRegistrationRefusal,
  listenersReportedReconfigurable,
  missingTopicConfigError,
} from '../../src/server/alterConfigsByRelease.js';

describe('a config named twice in one legacy AlterConfigs resource', () => {
  it('is refused from Kafka 3.2 on (KAFKA-13552) and kept last-wins before', () => {
    for (const v of ['0.10.2', '2.4', '2.4.0', '2.8', '3.0', '3.1.2'])
      expect(legacyAlterConfigsRefusesDuplicates(v), v).toBe(false);
    for (const v of ['3.2', '3.2.0', '3.8', '3.10', '4.0'])
      expect(legacyAlterConfigsRefusesDuplicates(v), v).toBe(true);
  });

  it('collapses repeats to the last value where the release accepts them, and passes them on where it refuses', () => {
    const entries = [
      { name: 'message.format.version', value: '2.4-IV1' },
      { name: 'retention.ms', value: '1000' },
      { name: 'message.format.version', value: '0.10.0' },
    ];
    expect(legacyAlterConfigEntries(entries, '2.4.0')).toEqual([
      { name: 'message.format.version', value: '0.10.0' },
      { name: 'retention.ms', value: '1000' },
    ]);
    expect(legacyAlterConfigEntries(entries, '3.8')).toEqual(entries);
  });
});

describe('altering the configs of a topic that does not exist', () => {
  it('answers UNKNOWN_SERVER_ERROR below Kafka 2.7 (AdminOperationException) and leaves the answer alone from 2.7 (KAFKA-10033)', () => {
    for (const v of ['2.4', '2.4.0', '2.6.3'])
      expect(missingTopicConfigError(v, 't'), v).toEqual({
        errorCode: ErrorCode.UNKNOWN_SERVER_ERROR,
        errorMessage: 'Topic "t" does not exist.',
      });
    for (const v of ['2.7', '2.8.0', '3.8']) expect(missingTopicConfigError(v, 't'), v).toBeUndefined();
  });
});

describe('the listener registration configs', () => {
  it('are listed as reconfigurable before Kafka 4.0 and read-only from it', () => {
    for (const v of ['1.1', '2.4.0', '3.8', '3.9.1'])
      expect(listenersReportedReconfigurable(v), v).toBe(true);
    for (const v of ['4.0', '4.1.0']) expect(listenersReportedReconfigurable(v), v).toBe(false);
  });

  it('are refused as a Raft-based quorum refuses them where listed reconfigurable, else left to the planner', () => {
    expect(listenerRegistrationRefusal('3.8', ['log.cleaner.threads', 'advertised.listeners'])).toEqual({
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage:
        'Invalid dynamic configuration: advertised.listeners: Advertised listeners cannot be altered when using a Raft-based metadata quorum.',
    });
    expect(listenerRegistrationRefusal('2.4', ['listeners'])?.errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect(listenerRegistrationRefusal('3.8', ['log.cleaner.threads'])).toBeUndefined();
    expect(listenerRegistrationRefusal('4.0', ['advertised.listeners'])).toBeUndefined();
  });
});
