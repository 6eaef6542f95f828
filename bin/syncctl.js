#!/usr/bin/env node
// Entry point of the syncctl CLI: runs the compiled oclif commands in dist/.
// The project brings its runtime, Node 24, as node_modules/.bin/node (the node-linux-*
// optional dependencies); npm scripts and npx put it first on PATH, systemd names it in
// ExecStart. Started by an older system Node (`./bin/syncctl.js` on a Node 20 machine), the CLI
// refuses with the command to use instead of failing later in a dependency.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const MIN_NODE = [22, 12];
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < MIN_NODE[0] || (major === MIN_NODE[0] && minor < MIN_NODE[1])) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const bundled = `${root}node_modules/.bin/node`;
  const how = existsSync(bundled)
    ? `Run it with the project's Node 24: \`npx syncctl ...\` in ${root}, or ${bundled} ${root}bin/syncctl.js ...`
    : 'Install Node.js 22.12 or newer (24 LTS is the tested runtime), or run `npm ci` in the project to get its Node 24.';
  process.stderr.write(`Error: syncctl needs Node.js >= ${MIN_NODE.join('.')}; this is ${process.version} (${process.execPath}).\n${how}\n`);
  process.exit(2);
}

const { execute } = await import('@oclif/core');
await execute({ dir: import.meta.url });
