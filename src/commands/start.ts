import { BaseCommand } from '../cli/base-command.js';
import { Daemon } from '../daemon/daemon.js';
import { buildConnectorSet } from '../daemon/registry.js';
import { EXIT } from '../cli/exit-codes.js';

/** Runs the sync daemon until SIGTERM/SIGINT (drain), a second signal forces. */
export default class Start extends BaseCommand<typeof Start> {
  static override summary = 'Run the sync daemon: webhook intake, pollers, transform, sync workers, writers, metrics and health.';
  static override description =
    'Meant to run under systemd (config/syncctl.service). The first SIGTERM or SIGINT drains in-flight work and exits 0 within daemon.drainTimeoutSeconds (exits 3 naming the drain step it was in when it does not); a second signal exits at once. Several daemons can share one stack: sync work is split by Kafka partitions, pollers run on one elected daemon. Two listeners: http.public (default 127.0.0.1:28700; put the TLS proxy in front) serves only POST /webhooks/<platform>/<instance> and a bare GET /healthz; http.admin (default 127.0.0.1:28701) serves /metrics, /healthz and /readyz with details, the Alertmanager receiver POST /alerts and the operator console /console (a browser login with the token; see docs/console.md). With http.admin.token (env SYNCCTL_HTTP__ADMIN__TOKEN) every admin path needs Authorization: Bearer <token> (except those listed in http.admin.unauthenticated; /alerts always needs it); an admin listener off loopback without a token is refused.';
  static override examples = ['<%= config.bin %> start', '<%= config.bin %> start --config /etc/syncctl/config.yml --log-level info'];
  static override logLevelFromConfig = true;
  static override enableJsonFlag = false;

  public async run(): Promise<void> {
    const { config } = await this.loadConfig();
    const daemon = new Daemon(config, buildConnectorSet);
    await daemon.start();
    process.stderr.write(`syncctl daemon listening on ${daemon.url} (webhooks), admin on ${daemon.adminUrl}\n`);
    const sig = await this.waitForShutdown();
    process.stderr.write(`${sig}: draining (up to ${config.daemon.drainTimeoutSeconds} s; send it again to force)\n`);
    const timer = setTimeout(() => {
      const at = daemon.drainProgress();
      process.stderr.write(`drain timed out${at ? ` in step "${at.step}" (${at.ms} ms so far)` : ''}: exiting\n`);
      process.exit(EXIT.RUNTIME);
    }, config.daemon.drainTimeoutSeconds * 1000);
    timer.unref();
    await daemon.stop();
    clearTimeout(timer);
  }
}
