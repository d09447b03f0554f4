import {
  CONNECTOR_SCHEMAS,
  type Connector,
  type ConnectorTaskStateValue,
  type ConnectorType,
  connectorStateOf,
} from '@fjord/contracts';
import type {
  ConnectorOffset as ConnectorOffsetRow,
  Connector as ConnectorRow,
  ConnectorTask as ConnectorTaskRow,
} from '@fjord/db';

type DesiredState = 'RUNNING' | 'PAUSED';

/**
 * A stored config with the defaults of fields added since it was stored filled in (the worker
 * parses it the same way), so reads and PATCH comparisons see what the connector runs with.
 */
export function effectiveConnectorConfig(type: string, stored: unknown): Record<string, unknown> {
  const parsed = CONNECTOR_SCHEMAS[type as ConnectorType]?.config.safeParse(stored);
  return (parsed?.success ? parsed.data : stored) as Record<string, unknown>;
}

/** A connector as the API shows it: secrets by name only. */
export function connectorView(row: ConnectorRow & { tasks: ConnectorTaskRow[] }): Connector {
  const tasks = [...row.tasks]
    .sort((a, b) => a.task - b.task)
    .map((t) => ({
      task: t.task,
      state: t.state as ConnectorTaskStateValue,
      reason: t.reason,
      workerId: t.workerId,
      updatedAt: t.updatedAt.toISOString(),
    }));
  const desiredState = row.desiredState as DesiredState;
  return {
    id: row.id,
    instanceId: row.instanceId,
    name: row.name,
    type: row.type as Connector['type'],
    tasksMax: row.tasksMax,
    config: effectiveConnectorConfig(row.type, row.config),
    secretsSet: row.secretNames,
    desiredState,
    state: connectorStateOf(desiredState, tasks),
    tasks,
    version: row.version,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function connectorOffsetsView(connectorId: string, rows: ConnectorOffsetRow[]) {
  return {
    connectorId,
    partitions: rows
      .map((r) => ({
        topic: r.topic,
        partition: r.partition,
        offset: Number(r.offset),
        updatedAt: r.updatedAt.toISOString(),
      }))
      .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition),
  };
}
