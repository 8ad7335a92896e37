// @ts-check
// What the web client's bundle is built from, and one hash of it. web/dist is committed (so that `npm install &&
// npm start` serves /app on a fresh clone without building anything); `npm run build:web` writes this hash beside
// the bundle (web/dist/.inputs-sha256), and test/web-bundle.test.ts recomputes it without building: a bundle
// built from other sources than the ones committed fails that test, which says to run `npm run build:web`.
//
// The inputs are what Vite and codegen read: web/'s sources, page, configs and lockfile (the lockfile pins Vite and
// every bundled package). Not ../schema.graphql: the bundle's bytes do not depend on it (types are erased, enums are
// types), and `npm run build:web` type-checks the client against it anyway. Not web/src/gql: codegen writes it from
// the sources. Files are read with their line endings normalized, so a checkout with CRLF hashes the same.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Files at web/'s top level that the build reads. */
const FILES = ['index.html', 'package.json', 'package-lock.json', 'vite.config.ts', 'codegen.ts', 'tsconfig.json'];
/** Folders whose every file is an input (Vite copies public/ as is), except generated code and dotfiles. */
const DIRS = ['src', 'public'];
const GENERATED = new Set(['src/gql']);

/** Where the hash is written, relative to web/ (a dotfile: /app answers it with index.html, not the file). */
export const STAMP = 'dist/.inputs-sha256';

/**
 * The build's input files, as paths relative to `webDir` with `/` separators, sorted.
 * @param {string} webDir
 * @returns {string[]}
 */
export function webInputs(webDir) {
  const found = FILES.filter((f) => existsSync(join(webDir, f)));
  /** @param {string} rel */
  const walk = (rel) => {
    for (const entry of readdirSync(join(webDir, rel), { withFileTypes: true })) {
      const path = `${rel}/${entry.name}`;
      if (entry.name.startsWith('.') || GENERATED.has(path)) continue;
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) found.push(path);
    }
  };
  for (const dir of DIRS) if (existsSync(join(webDir, dir))) walk(dir);
  return found.sort();
}

/**
 * sha256 over every input's path and content.
 * @param {string} webDir
 * @returns {string}
 */
export function webInputsHash(webDir) {
  const hash = createHash('sha256');
  for (const rel of webInputs(webDir)) {
    const text = readFileSync(join(webDir, rel), 'utf8').replace(/\r\n/g, '\n');
    hash.update(`${rel}\0${Buffer.byteLength(text)}\0`).update(text);
  }
  return hash.digest('hex');
}

/**
 * The hash the committed bundle was built from, or undefined when web/dist has none.
 * @param {string} webDir
 * @returns {string | undefined}
 */
export function builtFromHash(webDir) {
  const path = join(webDir, STAMP);
  return existsSync(path) ? readFileSync(path, 'utf8').trim() : undefined;
}
