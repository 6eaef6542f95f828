import { BaseCommand } from '../../cli/base-command.js';
import { ConfigError } from '../../core/errors.js';
import { shopifyVersionWarnings } from '../../connectors/shopify/api-versions.js';

/** Validates the configuration and reports every problem with its key path. */
export default class ConfigValidate extends BaseCommand<typeof ConfigValidate> {
  static override summary = 'Validate the configuration and list every problem by key.';
  static override description =
    'A Shopify store takes `accessToken` (a custom app created in the Shopify admin before 2026: its static Admin API token) or `clientId` ' +
    '(an app created in the Dev Dashboard: syncctl obtains its 24-hour tokens with the client credentials grant), with `clientSecret` in both cases. ' +
    'Warns (without failing) when a store\'s `apiVersion` is less than 90 days from its end of support.';
  static override examples = ['<%= config.bin %> config validate --config config/config.example.yml'];

  public async run(): Promise<{ valid: true; file: string | null; warnings: string[] }> {
    const { config, filepath } = await this.loadConfig().catch((err: unknown) => {
      throw err instanceof ConfigError ? err : new ConfigError('CONFIG_INVALID', String(err));
    });
    const warnings = shopifyVersionWarnings(config.sources.shopify);
    if (!this.jsonEnabled()) {
      this.log(`Configuration is valid (${filepath ?? 'built-in defaults'}).`);
      for (const w of warnings) this.log(`warning: ${w}`);
    }
    return { valid: true, file: filepath, warnings };
  }
}
