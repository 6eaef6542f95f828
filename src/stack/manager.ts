import type { SyncConfig } from '../config/schema.js';
import type { StackComponent, StackComponentStatus } from './component.js';
import { ScriptComponent } from './script-component.js';
import { PostgresService, RedisService } from './services.js';
import { LogicalPostgresService } from './postgres-logical.js';
import { packageRoot, stackDir } from './paths.js';
import { join } from 'node:path';

/** Which optional parts of the stack to include. */
export interface StackSelection {
  /** Kafka Connect + Debezium (for ERP CDC). */
  connect?: boolean;
  /** Flink session cluster + SQL Gateway. */
  flink?: boolean;
  /** Prometheus and Alertmanager (Debian packages) with the project's rules. */
  monitoring?: boolean;
}

/** The environment the stack scripts read (ports, dirs, heap sizes), from config. */
export function stackEnv(config: SyncConfig): Record<string, string> {
  const s = config.stack;
  const adminHost = ['0.0.0.0', '::'].includes(config.http.admin.host) ? '127.0.0.1' : config.http.admin.host;
  return {
    STACK_DIR: stackDir(s.dir),
    KAFKA_PORT: String(s.kafka.port),
    KAFKA_CONTROLLER_PORT: String(s.kafka.controllerPort),
    KAFKA_HEAP_MB: String(s.kafka.heapMb),
    KAFKA_BOOTSTRAP: config.kafka.brokers.join(','),
    CONNECT_PORT: String(s.connect.port),
    CONNECT_HEAP_MB: String(s.connect.heapMb),
    FLINK_REST_PORT: String(s.flink.restPort),
    FLINK_GATEWAY_PORT: String(s.flink.gatewayPort),
    FLINK_RPC_PORT: String(s.flink.rpcPort),
    PROMETHEUS_PORT: String(config.monitoring.prometheus.port),
    ALERTMANAGER_PORT: String(config.monitoring.alertmanager.port),
    SYNCCTL_METRICS_TARGET: `${adminHost}:${config.http.admin.port}`,
    SYNCCTL_ALERTS_URL: `http://${adminHost}:${config.http.admin.port}/alerts`,
  };
}

/** The components of the local stack, in start order. */
export function stackComponents(config: SyncConfig, sel: StackSelection = {}): StackComponent[] {
  const env = stackEnv(config);
  const parts: StackComponent[] = [
    // Kafka Connect + Debezium read the WAL through logical replication: the local server gets wal_level=logical.
    sel.connect ? new LogicalPostgresService(config.database.url, config.stack.manageServices) : new PostgresService(config.database.url, config.stack.manageServices),
    new RedisService(config.redis.url, config.stack.manageServices),
    new ScriptComponent('kafka', env),
  ];
  if (sel.connect) parts.push(new ScriptComponent('connect', env));
  if (sel.flink) parts.push(new ScriptComponent('flink', env));
  if (sel.monitoring) {
    const dir = join(packageRoot(), 'scripts', 'monitoring');
    // Only these two see the admin token: their scripts write it to the 0600 file Prometheus and Alertmanager read (credentials_file).
    const withToken = { ...env, SYNCCTL_ADMIN_TOKEN: config.http.admin.token ?? '' };
    parts.push(new ScriptComponent('alertmanager', withToken, 600_000, dir), new ScriptComponent('prometheus', withToken, 600_000, dir));
  }
  return parts;
}

/** Starts every selected component in order; idempotent. */
export async function stackUp(config: SyncConfig, sel: StackSelection = {}, onStatus?: (s: StackComponentStatus) => void): Promise<StackComponentStatus[]> {
  const out: StackComponentStatus[] = [];
  for (const c of stackComponents(config, sel)) {
    const s = await c.up();
    onStatus?.(s);
    out.push(s);
  }
  return out;
}

/** Stops what `up` started, in reverse order. */
export async function stackDown(config: SyncConfig, sel: StackSelection = {}): Promise<StackComponentStatus[]> {
  const out: StackComponentStatus[] = [];
  for (const c of stackComponents(config, sel).reverse()) out.push(await c.down());
  return out.reverse();
}

/** The status of every component (never throws for a component that is down). */
export async function stackStatus(config: SyncConfig, sel: StackSelection = {}): Promise<StackComponentStatus[]> {
  return Promise.all(
    stackComponents(config, sel).map((c) =>
      c.status().catch((err: Error) => ({ component: c.name, running: false, ready: false, managed: false, detail: err.message })),
    ),
  );
}
