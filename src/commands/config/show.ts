import { BaseCommand } from '../../cli/base-command.js';
import { stringify } from 'yaml';
import { redact } from '../../config/redact.js';

/** Prints the effective configuration (file + env + defaults), secrets redacted. */
export default class ConfigShow extends BaseCommand<typeof ConfigShow> {
  static override summary = 'Print the effective configuration with secrets redacted.';
  static override description = 'Merges the config file, SYNCCTL_* environment overrides and built-in defaults, validates the result and prints it. Tokens, secrets and passwords (also inside URLs) are never printed.';
  static override examples = ['<%= config.bin %> config show', '<%= config.bin %> config show --config /etc/syncctl/config.yml --json'];

  public async run(): Promise<{ file: string | null; envOverrides: string[]; config: unknown }> {
    const { config, filepath, envOverrides } = await this.loadConfig();
    const result = { file: filepath, envOverrides: Object.keys(envOverrides).sort(), config: redact(config) };
    if (!this.jsonEnabled()) {
      this.log(`# file: ${filepath ?? '(none: built-in defaults)'}`);
      if (result.envOverrides.length) this.log(`# env overrides: ${result.envOverrides.join(', ')}`);
      this.log(stringify(result.config));
    }
    return result;
  }
}
