/**
 * Where a task starts reading a partition (pure; docs/adr/0022). Three places may know it: the
 * control plane's `ConnectorOffset` row (written after every commit, and by `PUT …/offsets`), the
 * position a sink or target keeps itself in the same transaction as the data (an exactly-once
 * mirror's offsets group, the PostgreSQL sink's table), and the source's log start.
 */

/** The control plane's row of a partition. */
export interface ControlPlaneOffset {
  readonly offset: bigint;
  /** Written by a reset that no task has committed past yet. */
  readonly resetPending: boolean;
}

export type StartSource = 'reset' | 'sink' | 'control-plane' | 'log-start';

export interface StartPosition {
  /** The offset to read from; undefined: the source's log start (nothing is known). */
  readonly offset: bigint | undefined;
  readonly from: StartSource;
}

/**
 * A pending reset wins: the user moved the partition while the connector was stopped, and the
 * sink's own position is older than that. It stays pending until the task's first commit of the
 * partition (which also moves the sink's position), so a task that dies before it starts from the
 * reset again. Otherwise the sink's own position wins, being committed with the data (the control
 * plane's copy is written after it and may lag by one commit); then the control plane's.
 */
export function startPosition(
  controlPlane: ControlPlaneOffset | undefined,
  sink: bigint | undefined,
): StartPosition {
  if (controlPlane?.resetPending) return { offset: controlPlane.offset, from: 'reset' };
  if (sink !== undefined) return { offset: sink, from: 'sink' };
  if (controlPlane !== undefined) return { offset: controlPlane.offset, from: 'control-plane' };
  return { offset: undefined, from: 'log-start' };
}
