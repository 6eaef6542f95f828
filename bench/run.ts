// `npm run bench`: runs every bench/*.bench.ts (or those named on the command line) and writes
// one JSON file per benchmark to bench/results/<name>.json with machine, date and git commit.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, hostname } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchFigure } from './lib.js';

const dir = fileURLToPath(new URL('.', import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

const commit = (() => {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
})();
const machine = { cores: cpus().length, cpu: cpus()[0]?.model ?? '?', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, host: hostname() };
mkdirSync(join(dir, 'results'), { recursive: true });

let failed = 0;
for (const f of files) {
  const name = basename(f, '.bench.ts');
  process.stderr.write(`\n== ${name}\n`);
  const started = new Date();
  try {
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as { default: () => Promise<BenchFigure[]> };
    const figures = await mod.default();
    const out = { benchmark: name, date: started.toISOString(), durationSeconds: (Date.now() - started.getTime()) / 1000, commit, machine, figures };
    writeFileSync(join(dir, 'results', `${name}.json`), JSON.stringify(out, null, 2) + '\n');
    for (const fig of figures) {
      const ratio = fig.ratio !== undefined ? `  (${(fig.ratio * 100).toFixed(1)} % of ${fig.baseline?.name})` : '';
      process.stdout.write(`${name}  ${fig.name} = ${fig.value} ${fig.unit}${ratio}${fig.target ? `  [target ${fig.target}]` : ''}\n`);
    }
  } catch (err) {
    failed++;
    process.stderr.write(`benchmark ${name} failed: ${(err as Error).stack}\n`);
  }
}
process.exit(failed ? 1 : 0);
