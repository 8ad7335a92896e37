import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The project's root folder (where package.json, prisma/ and web/ are), found by walking up from this file: the
 * same answer from the sources (src/paths.ts under tsx) and from the bundle (dist/confab.js), whose
 * `import.meta.url` is the bundle's, not the original file's. Relative URLs such as `new URL('../../', …)` would
 * change meaning once bundled; resolve project files from here instead.
 */
export const projectRoot: string = (() => {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; ) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'prisma'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`Confab's project root (package.json and prisma/) not found above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
})();

/** A path inside the project. */
export const fromRoot = (...parts: string[]): string => join(projectRoot, ...parts);
