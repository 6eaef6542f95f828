import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/cli.js';

const UNIT = join(REPO_ROOT, 'config', 'syncctl.service');
const INSTALL_DIR = '/opt/syncctl';
const ROOT = REPO_ROOT.replace(/\/$/, '');

/** The unit's `[section]` → lines (`Key=value`), comments dropped. */
function sections(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^\[(.+)\]$/.exec(line);
    if (m) out.set((current = m[1]!), []);
    else out.get(current)?.push(line);
  }
  return out;
}

describe('systemd unit config/syncctl.service', () => {
  const text = readFileSync(UNIT, 'utf8');
  const unit = sections(text);

  it('passes `systemd-analyze verify` without a warning when installed at the project\'s directory', function () {
    const probe = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
    if (probe.error) {
      console.warn('  skipped: systemd-analyze is not installed (Debian package `systemd`)');
      this.skip();
    }
    // The unit names /opt/syncctl (docs/operations.md); verify checks that ExecStart's binary exists,
    // so the copy under test names this checkout instead.
    const dir = mkdtempSync(join(tmpdir(), 'syncctl-unit-'));
    try {
      const copy = join(dir, 'syncctl.service');
      writeFileSync(copy, text.replaceAll(INSTALL_DIR, ROOT));
      const r = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8' });
      assert.equal(`${r.stdout}${r.stderr}`.trim(), '', 'systemd-analyze printed warnings');
      assert.equal(r.status, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps the restart limit in [Unit], where systemd reads it', () => {
    for (const key of ['StartLimitIntervalSec', 'StartLimitBurst']) {
      assert.ok(unit.get('Unit')?.some((l) => l.startsWith(`${key}=`)), `${key} missing from [Unit]`);
      assert.ok(!unit.get('Service')?.some((l) => l.startsWith(`${key}=`)), `${key} in [Service] is ignored by systemd`);
    }
  });

  it('starts the daemon and its migrations with the Node the project brings, not the system one', function () {
    const execs = (unit.get('Service') ?? []).filter((l) => /^ExecStart(Pre)?=/.test(l));
    assert.equal(execs.length, 2);
    for (const l of execs) assert.match(l, new RegExp(`^ExecStart(Pre)?=${INSTALL_DIR}/node_modules/\\.bin/node ${INSTALL_DIR}/bin/syncctl\\.js `));
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { optionalDependencies: Record<string, string> };
    const pinned = pkg.optionalDependencies[`node-${process.platform}-${process.arch}`];
    if (!pinned) this.skip();
    const v = execFileSync(join(ROOT, 'node_modules', '.bin', 'node'), ['--version'], { encoding: 'utf8' }).trim();
    assert.equal(v, `v${pinned}`);
  });
});
