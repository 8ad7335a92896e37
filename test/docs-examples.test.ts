// Every example operation in README.md and docs/**/*.md is validated against the committed schema, so the
// docs cannot drift from the API. No server or database: graphql-js parses and validates each block.
//
// Which blocks count (docs/contributing.md, "Examples in the docs"):
// - a fence whose info string is `graphql` holds operations and fragments: parsed and validated;
// - a fence whose info string is `graphql-sdl` holds type definitions: skipped on purpose;
// - any other fence (sh, ts, json...) is not GraphQL and is not read.
// A block may hold several operations, anonymous ones too (each is one example), and the fragments they use.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  buildSchema,
  GraphQLError,
  LoneAnonymousOperationRule,
  parse,
  specifiedRules,
  validate,
  type GraphQLSchema,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { committedSchema } from './helpers/committed-schema.ts';
import { ENV_MAP } from '../src/config.ts';

const root = join(import.meta.dirname, '..');

interface Example {
  file: string;
  /** 1-based line of the block's first line of content (the line after the opening fence). */
  line: number;
  source: string;
}

/** Each ```graphql block of a Markdown text; ```graphql-sdl blocks and every other language are left out. */
function extractExamples(file: string, markdown: string): Example[] {
  const examples: Example[] = [];
  const lines = markdown.split('\n');
  let open: { fence: string; lang: string; start: number; body: string[] } | undefined;
  lines.forEach((text, i) => {
    if (open) {
      if (text.trim() === open.fence) {
        if (open.lang === 'graphql') examples.push({ file, line: open.start, source: open.body.join('\n') });
        open = undefined;
      } else open.body.push(text);
      return;
    }
    const fence = /^\s*(`{3,}|~{3,})\s*([\w-]*)/.exec(text);
    if (fence) open = { fence: fence[1], lang: fence[2].toLowerCase(), start: i + 2, body: [] };
  });
  if (open) throw new Error(`${file}:${open.start - 1}: code block never closed`);
  return examples;
}

// A block is a collection of examples, not one request: several anonymous operations may stand side by side.
const rules = specifiedRules.filter((rule) => rule !== LoneAnonymousOperationRule);

/** `file:line: message` for every syntax or validation error of one example; empty when it is valid. */
function checkExample(schema: GraphQLSchema, example: Example): string[] {
  const at = (error: GraphQLError) => `${example.file}:${example.line + (error.locations?.[0]?.line ?? 1) - 1}`;
  let document;
  try {
    document = parse(example.source);
  } catch (error) {
    if (error instanceof GraphQLError) return [`${at(error)}: ${error.message}`];
    throw error;
  }
  return validate(schema, document, rules).map((error) => `${at(error)}: ${error.message}`);
}

function markdownFiles(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return walk(path);
      return entry.name.endsWith('.md') ? [path] : [];
    });
  return [join(root, 'README.md'), ...walk(join(root, 'docs'))].map((path) => relative(root, path)).sort();
}

describe('the extractor', () => {
  const schema = buildSchema('type Query { hello(name: String!): String! }');
  const markdown = [
    '# Title', // 1
    '```graphql', // 2
    'query A { hello(name: "a") }', // 3
    'query { hello(name: "b") }', // 4
    '```', // 5
    '```graphql-sdl', // 6
    'type Nothing { validated: Boolean }', // 7
    '```', // 8
    '```sh', // 9
    'npm start', // 10
    '```', // 11
    '```graphql', // 12
    'query B {', // 13
    '  goodbye', // 14
    '}', // 15
    '```', // 16
  ].join('\n');

  it('takes graphql blocks, skips graphql-sdl and other languages, and reports file:line', () => {
    const examples = extractExamples('x.md', markdown);
    expect(examples.map((e) => e.line)).toEqual([3, 13]);
    expect(checkExample(schema, examples[0])).toEqual([]);
    expect(checkExample(schema, examples[1])).toEqual(['x.md:14: Cannot query field "goodbye" on type "Query".']);
  });

  it('reports syntax errors with their line', () => {
    const [example] = extractExamples('y.md', 'text\n```graphql\nquery {\n  hello(name: "a"\n}\n```\n');
    expect(checkExample(schema, example)).toEqual([expect.stringMatching(/^y\.md:5: Syntax Error/)]);
  });
});

describe('the docs examples', () => {
  const schema = committedSchema();
  const files = markdownFiles();

  it('finds the README and the pages under docs/', () => {
    expect(files).toContain('README.md');
    expect(files.filter((f) => f.startsWith('docs/')).length).toBeGreaterThan(5);
  });

  it.each(files)('%s: every graphql example is valid against schema.graphql', (file) => {
    const examples = extractExamples(file, readFileSync(join(root, file), 'utf8'));
    expect(examples.flatMap((example) => checkExample(schema, example))).toEqual([]);
  });
});

describe('docs/configuration.md', () => {
  it('names every environment variable src/config.ts reads', () => {
    const page = readFileSync(join(root, 'docs/configuration.md'), 'utf8');
    expect(Object.keys(ENV_MAP).filter((name) => !page.includes(`\`${name}\``))).toEqual([]);
  });
});
