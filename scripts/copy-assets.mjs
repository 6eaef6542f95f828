// Copies the non-TypeScript assets that live next to the sources (SQL migrations,
// GraphQL documents and schemas, the console's stylesheet and script) into dist/, keeping their
// relative paths.
import { cpSync, readdirSync, statSync, mkdirSync } from 'node:fs';
import { join, dirname, extname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const exts = new Set(['.sql', '.graphql', '.json', '.yml', '.yaml']);
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (exts.has(extname(name)) || (p.includes(join('console', 'assets')) && ['.css', '.js'].includes(extname(name)))) {
      const out = join(root, 'dist', p.slice(join(root, 'src').length));
      mkdirSync(dirname(out), { recursive: true });
      cpSync(p, out);
    }
  }
}
walk(join(root, 'src'));
