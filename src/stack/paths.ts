import { fileURLToPath } from 'node:url';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { existsSync } from 'node:fs';

/** The syncctl package root (where package.json, scripts/ and config/ are), from src/ or dist/. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('syncctl package root not found');
    dir = up;
  }
  return dir;
}

/** The directory of the stack scripts. */
export const scriptsDir = (): string => join(packageRoot(), 'scripts', 'stack');

/** Resolves `stack.dir` (relative paths are from the package root). */
export function stackDir(configured: string): string {
  return isAbsolute(configured) ? configured : resolve(packageRoot(), configured);
}
