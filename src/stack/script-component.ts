import { execa } from 'execa';
import { delimiter, dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import { ServiceUnavailableError } from '../core/errors.js';
import { getLogger } from '../core/logger.js';
import type { StackComponent, StackComponentStatus } from './component.js';
import { scriptsDir } from './paths.js';

/**
 * A component run by a shell script in scripts/stack/ (`<name>.sh fetch|up|down|status`),
 * which prints its status as one JSON line on stdout and logs on stderr.
 */
export class ScriptComponent implements StackComponent {
  private readonly log = getLogger('stack');

  constructor(
    readonly name: string,
    private readonly env: Record<string, string>,
    private readonly timeoutMs = 300_000,
    /** Directory of the script (default scripts/stack). */
    private readonly dir = scriptsDir(),
  ) {}

  up(): Promise<StackComponentStatus> {
    return this.run('up');
  }
  down(): Promise<StackComponentStatus> {
    return this.run('down');
  }
  status(): Promise<StackComponentStatus> {
    if (!existsSync(join(this.dir, `${this.name}.sh`))) {
      return Promise.resolve({ component: this.name, running: false, ready: false, managed: false, detail: 'not available in this version' });
    }
    return this.run('status');
  }

  private async run(action: string): Promise<StackComponentStatus> {
    const script = join(this.dir, `${this.name}.sh`);
    const res = await execa('bash', [script, action], {
      // the scripts' own `node -e` (status lines) runs on this Node: under systemd or by absolute
      // path the CLI runs on the project's Node 24, and PATH may name an older one or none
      env: { ...this.env, PATH: [dirname(process.execPath), process.env.PATH].filter(Boolean).join(delimiter) },
      reject: false,
      timeout: this.timeoutMs,
      stdin: 'ignore',
      // Its own session: a Ctrl-C in the caller's terminal stops the CLI, not a script half-way
      // through starting or stopping a component (what it launches is detached anyway: lib.sh spawn).
      detached: true,
    });
    for (const line of res.stderr.split('\n').filter(Boolean)) this.log.debug({ component: this.name }, line);
    const last = res.stdout.trim().split('\n').pop() ?? '';
    if (res.exitCode !== 0 || !last.startsWith('{')) {
      const why = res.stderr.split('\n').filter((l) => l.includes('ERROR')).pop() ?? res.stderr.split('\n').slice(-3).join(' ');
      throw new ServiceUnavailableError(this.name, `stack ${action} ${this.name} failed: ${why.replace('[stack] ERROR: ', '').trim() || `exit ${res.exitCode}`}`, {
        hint: `See the logs under stack.dir/logs, or run: bash ${script} ${action}`,
      });
    }
    return JSON.parse(last) as StackComponentStatus;
  }
}
