import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const src = join(import.meta.dirname, '..', 'src');

/** The files that wire everything together, and so may import the module registry (and nothing else in modules/). */
const COMPOSITION_ROOTS = ['app.ts', 'index.ts', 'print-schema.ts'];

function tsFiles(dir: string, deep: boolean, skip: string[] = []): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (skip.includes(path)) return [];
    if (statSync(path).isDirectory()) return deep ? tsFiles(path, true, skip) : [];
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** Every module specifier a file names: static, side-effect, type-only, re-export and dynamic imports. */
function specifiers(code: string): string[] {
  const found = [...code.matchAll(/(?:\bfrom\s*|\bimport\s*(?:\(\s*)?)['"]([^'"]+)['"]/g)].map((m) => m[1]);
  return [...new Set(found)];
}

/** Each file's relative imports, as the paths they name (packages left out): the import graph. */
function importGraph(files: string[], read: (file: string) => string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const targets = specifiers(read(file))
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => resolve(dirname(file), spec));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/**
 * The import circles of a graph: its strongly connected components of more than one file (or a file that
 * imports itself), found with Tarjan's algorithm, each shown as one circle through its first file
 * (`a → b → a`), then the files in it (the first 12).
 */
function importCycles(graph: Map<string, string[]>, name: (file: string) => string = (f) => f): string[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || graph.get(v)!.includes(v)) components.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return components.map((component) => {
    // The shortest circle from the component's first file back to it (breadth first, inside the component).
    const inside = new Set(component);
    const start = component[0];
    const from = new Map<string, string>();
    const queue = [start];
    let last: string | undefined;
    while (queue.length && !last) {
      const v = queue.shift()!;
      for (const w of graph.get(v)!) {
        if (w === start) {
          last = v;
          break;
        }
        if (inside.has(w) && !from.has(w)) {
          from.set(w, v);
          queue.push(w);
        }
      }
    }
    const circle = [start];
    for (let v = last!; v !== start; v = from.get(v)!) circle.splice(1, 0, v);
    const files = component.length > 12 ? [...component.slice(0, 12).map(name), `${component.length - 12} more`] : component.map(name);
    return `${[...circle, start].map(name).join(' → ')} (files in it: ${files.join(', ')})`;
  });
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
    expect(rels).toEqual(expect.arrayContaining(['auth/permissions.ts', 'auth/viewer.ts', 'schema/index.ts', 'live/bus.ts', 'context.ts', 'db/client.ts', 'db/migrate.ts', 'live/access.ts', 'live/guard.ts']));
  });

  it('src/ has no import circles (static, type-only, re-exports and dynamic imports alike; Prisma\'s generated client aside)', () => {
    const files = tsFiles(src, true, [join(src, 'generated')]);
    const graph = importGraph(files, (file) => readFileSync(file, 'utf8'));
    expect(importCycles(graph, (f) => relative(src, f))).toEqual([]);
    // The graph is the real one: it has the edges it should.
    expect(graph.get(join(src, 'app.ts'))).toEqual(expect.arrayContaining([join(src, 'modules', 'index.ts'), join(src, 'context.ts')]));
  });

  it('every folder of src/modules/ defines its module in <folder>.module.ts, and modules/index.ts lists each', () => {
    const modules = join(src, 'modules');
    const index = specifiers(readFileSync(join(modules, 'index.ts'), 'utf8'));
    const missing: string[] = [];
    for (const name of readdirSync(modules)) {
      if (!statSync(join(modules, name)).isDirectory()) continue;
      const file = `./${name}/${name}.module.ts`;
      if (!index.includes(file)) missing.push(file);
    }
    expect(missing).toEqual([]);
  });

  it('the circle check finds circles, and only them', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c', 'd']],
      ['c', ['a']],
      ['d', ['e']],
      ['e', []],
      ['f', ['f']],
      ['g', ['h']],
      ['h', ['g', 'a']],
    ]);
    expect(importCycles(graph)).toEqual([
      'a → b → c → a (files in it: a, b, c)',
      'f → f (files in it: f)',
      'g → h → g (files in it: g, h)',
    ]);
    const files = ['/x/a.ts', '/x/sub/b.ts'];
    const code: Record<string, string> = {
      '/x/a.ts': `import type { B } from './sub/b.ts';\nimport 'graphql';`,
      '/x/sub/b.ts': `export { A } from '../a.ts';\nconst c = await import('../c.json');`,
    };
    expect(importGraph(files, (f) => code[f])).toEqual(new Map([['/x/a.ts', ['/x/sub/b.ts']], ['/x/sub/b.ts', ['/x/a.ts', '/x/c.json']]]));
  });
});
