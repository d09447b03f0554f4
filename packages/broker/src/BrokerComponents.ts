/**
 * A part of the broker with a start-up step and a shutdown step (as Kafka's BrokerServer starts
 * and stops its managers). Either step may be absent: some parts only need stopping.
 */
export interface BrokerComponent {
  readonly name: string;
  start?(): void | Promise<void>;
  stop?(): void | Promise<void>;
}

/**
 * Starts components one after another and stops them in the reverse order: a part is stopped
 * only after everything that was started after it (and may use it) has stopped.
 */
export class ComponentStack {
  private readonly started: BrokerComponent[] = [];

  /** Starts `component` now; it will be stopped before everything started earlier. */
  async start(component: BrokerComponent): Promise<void> {
    await component.start?.();
    this.started.push(component);
  }

  /** Stops every started component, the last started first. */
  async stopAll(): Promise<void> {
    for (let c = this.started.pop(); c; c = this.started.pop()) await c.stop?.();
  }

  /** Names of the started components, in start order. */
  get names(): string[] {
    return this.started.map((c) => c.name);
  }
}

/**
 * A dependency that exists only later in start-up (the request dispatcher needs the services
 * that need the controller channel that dispatches locally through it). Reading it too early is
 * a wiring mistake, reported with the component's name instead of an undefined dereference.
 */
export class LateBound<T> {
  private value: T | undefined;

  constructor(private readonly name: string) {}

  set(value: T): T {
    this.value = value;
    return value;
  }

  get(): T {
    if (this.value === undefined) throw new Error(`${this.name} used before the broker created it`);
    return this.value;
  }

  /** The value if it exists yet (for callbacks that may run during start-up). */
  peek(): T | undefined {
    return this.value;
  }
}
