import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const src = join(import.meta.dirname, '..', 'src');

/** The files that wire everything together, and so may import the module registry (and nothing else in modules/). */
const COMPOSITION_ROOTS = ['app.ts', 'index.ts', 'print-schema.ts'];

function tsFiles(dir: string, deep: boolean): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return deep ? tsFiles(path, true) : [];
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** Every module specifier a file names: static, side-effect, type-only, re-export and dynamic imports. */
function specifiers(code: string): string[] {
  const found = [...code.matchAll(/(?:\bfrom\s*|\bimport\s*(?:\(\s*)?)['"]([^'"]+)['"]/g)].map((m) => m[1]);
  return [...new Set(found)];
}

describe('layers', () => {
  const lower = [
    ...tsFiles(join(src, 'auth'), true),
    ...tsFiles(join(src, 'db'), true),
    ...tsFiles(join(src, 'schema'), true),
    ...tsFiles(join(src, 'live'), true),
    ...tsFiles(join(src, 'http'), true),
    ...tsFiles(src, false),
  ];

  it('auth/, db/, schema/ and the top-level files import nothing from modules/ (composition roots: only the registry)', () => {
    const offences: string[] = [];
    for (const file of lower) {
      const rel = relative(src, file);
      for (const spec of specifiers(readFileSync(file, 'utf8'))) {
        if (!/(?:^|\/)modules(?:\/|$)/.test(spec)) continue;
        if (COMPOSITION_ROOTS.includes(rel) && spec === './modules/index.ts') continue;
        offences.push(`${rel} → ${spec}`);
      }
    }
    expect(offences).toEqual([]);
  });

  it('the scan sees imports of every form', () => {
    const code = `import a from '../modules/x.ts';\nimport type { B } from "../modules/y.ts";\nimport '../modules/z.ts';\nexport { c } from '../modules/w.ts';\nconst d = await import('../modules/v.ts');`;
    expect(specifiers(code)).toEqual(['../modules/x.ts', '../modules/y.ts', '../modules/z.ts', '../modules/w.ts', '../modules/v.ts']);
  });

  it('scans the layers it claims to', () => {
    const rels = lower.map((f) => relative(src, f));
    expect(rels).toEqual(expect.arrayContaining(['auth/permissions.ts', 'auth/viewer.ts', 'schema/index.ts', 'live/bus.ts', 'context.ts', 'db/migrate.ts', 'live/access.ts', 'live/guard.ts']));
  });
});
