import { BaseCommand } from '../../cli/base-command.js';
import { ConfigError } from '../../core/errors.js';

/** Validates the configuration and reports every problem with its key path. */
export default class ConfigValidate extends BaseCommand<typeof ConfigValidate> {
  static override summary = 'Validate the configuration and list every problem by key.';
  static override examples = ['<%= config.bin %> config validate --config config/config.example.yml'];

  public async run(): Promise<{ valid: true; file: string | null }> {
    const { filepath } = await this.loadConfig().catch((err: unknown) => {
      throw err instanceof ConfigError ? err : new ConfigError('CONFIG_INVALID', String(err));
    });
    if (!this.jsonEnabled()) this.log(`Configuration is valid (${filepath ?? 'built-in defaults'}).`);
    return { valid: true, file: filepath };
  }
}
