/** What `stack status` reports for one component of the local stack. */
export interface StackComponentStatus {
  /** `postgres`, `redis`, `kafka`, `connect`, `flink`... */
  component: string;
  /** A process is there (ours or the machine's). */
  running: boolean;
  /** It accepts work (port open, health endpoint answers). */
  ready: boolean;
  /** Started by `syncctl stack up` (so `down` will stop it). */
  managed: boolean;
  pid?: number | null;
  port?: number;
  /** One line for the operator (version, problem, fix). */
  detail?: string;
  /** Sub-items, e.g. Kafka Connect connectors and their tasks. */
  items?: Array<Record<string, unknown>>;
}

/** One part of the local stack, started and stopped idempotently. */
export interface StackComponent {
  readonly name: string;
  /** Starts it if needed; calling it twice is harmless. */
  up(): Promise<StackComponentStatus>;
  /** Stops it if `up` started it; never touches what it did not start. */
  down(): Promise<StackComponentStatus>;
  status(): Promise<StackComponentStatus>;
}
