/**
 * Generators of workload manifests for fuzzing: valid ones mutated as data (fields dropped,
 * renamed, retyped, nested deep) or as text, YAML token soups (anchors, aliases, tags, merge
 * keys, directives, flow and block syntax), and alias "billion laughs" bombs.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { examplesDir } from '../fixtures/index.ts';

/** Every field a workload can have, once. */
const FULL = `
namespace: shop
name: cart
annotations: { team: payments }
service:
  file: ./service.wasm
  maxRestarts: 3
  localResources:
    environment: { MODE: worker }
    volumeMounts: [{ name: scratch, mountPath: /tmp }]
witWorld:
  components:
    - name: api
      file: build/api.wasm
      poolSize: 4
      maxInvocations: 1000
      localResources:
        memoryLimitMb: 128
        cpuLimit: 2
        config: { greeting: hello }
        allowedHosts: [api.example.com, "*.internal.example.com"]
        volumeMounts:
          - { name: data, mountPath: /data, readOnly: true }
    - name: store
      image: ghcr.io/example/store:1.2.0
      digest: sha256:${'ab'.repeat(32)}
      imagePullPolicy: ALWAYS
      imagePullSecret: { username: robot, password: s3cret }
  hostInterfaces:
    - wasi:keyvalue/store,atomics@0.2.0-draft
    - { namespace: wasi, package: http, interfaces: [incoming-handler], version: 0.2.0, config: { host: cart.example.com } }
    - wasi:logging/logging
volumes:
  - { name: data, hostPath: { localPath: ./data } }
  - { name: scratch, emptyDir: {} }
`;

const MINIMAL = 'name: w\nwitWorld:\n  components: [{name: a, image: "ghcr.io/x/a:1"}]\n';

/** Valid manifests as text: the example's, one with every field, the smallest one. */
export const VALID_MANIFESTS: readonly string[] = [
  readFileSync(`${examplesDir}/http-counter/workload.yaml`, 'utf8'),
  FULL,
  MINIMAL,
  JSON.stringify(parseYaml(FULL)),
];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = (string | number)[];

/** Paths in a value, the root first, down to the depth where the schema ends. */
function pathsOf(root: unknown, maxDepth = 12): Path[] {
  const out: Path[] = [];
  const pending: [unknown, Path][] = [[root, []]];
  while (pending.length > 0) {
    const [value, path] = pending.shift()!;
    out.push(path);
    if (path.length >= maxDepth || value === null || typeof value !== 'object') continue;
    for (const [k, v] of Object.entries(value)) pending.push([v, [...path, Array.isArray(value) ? Number(k) : k]]);
  }
  return out;
}

/** Values no schema expects: extremes, wrong types, odd strings, deep nesting. */
const weirdValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    null, true, false, 0, -0, -1, 0.5, 2 ** 31, 2 ** 31 - 1, -(2 ** 31), 2 ** 53, 2 ** 64, 1e308, -1e308, Infinity, -Infinity, NaN,
    '', ' ', '0', '-1', '1.5', '99999999999999999999999', '0x10', '1e3', 'null', 'true', '~',
    '\0', '\ud800', '\u202e', '\ufeff', 'a\nb', '../../etc/passwd', '/', 'sha256:', '__proto__', 'constructor', 'toString',
    'ALWAYS', 'IMAGE_PULL_POLICY_NEVER', 'UNSPECIFIED', 'wasi:http/incoming-handler@0.2.0', 'x'.repeat(10_000),
    [], {}, [[]], [{}], { '': '' }, { __proto__: null, constructor: 'x' },
  ),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.integer(),
  fc.double(),
  fc.jsonValue({ maxDepth: 3 }),
  // Deep enough to exceed the schema; the parser's own limits are `deepNesting`'s job.
  fc.integer({ min: 20, max: 200 }).map((depth) => nest(depth)),
);

/** `{a: {a: ... 'x'}}` or `[[... 'x']]`, `depth` deep. */
export function nest(depth: number, kind: 'map' | 'list' = depth % 2 ? 'map' : 'list'): unknown {
  let value: unknown = 'x';
  for (let i = 0; i < depth; i++) value = kind === 'map' ? { a: value } : [value];
  return value;
}

type DataMutation =
  | { kind: 'delete'; at: number }
  | { kind: 'replace'; at: number; value: unknown }
  | { kind: 'rename'; at: number; name: string }
  | { kind: 'wrap-in-list'; at: number }
  | { kind: 'duplicate-into-list'; at: number; times: number };

const at = fc.nat({ max: 10_000 });
const dataMutation: fc.Arbitrary<DataMutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at }),
  fc.record({ kind: fc.constant('replace' as const), at, value: weirdValue }),
  fc.record({
    kind: fc.constant('rename' as const),
    at,
    // snake_case and case slips are accepted or suggested; random names are unknown fields.
    name: fc.oneof(fc.constantFrom('pool_size', 'wit_world', 'Name', 'nme', 'local_resources', 'memory_limit_mb', '__proto__', ''), fc.string({ maxLength: 12 })),
  }),
  fc.record({ kind: fc.constant('wrap-in-list' as const), at }),
  fc.record({ kind: fc.constant('duplicate-into-list' as const), at, times: fc.integer({ min: 2, max: 50 }) }),
);

function applyDataMutation(root: Json, m: DataMutation): unknown {
  const copy = structuredClone(root) as unknown;
  const paths = pathsOf(copy);
  const path = paths[m.at % paths.length];
  if (path.length === 0) return m.kind === 'replace' ? m.value : m.kind === 'delete' ? null : [copy];
  const parent = path.slice(0, -1).reduce<any>((node, key) => node[key], copy);
  const key = path.at(-1)!;
  const current = parent[key];
  switch (m.kind) {
    case 'delete':
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
      break;
    case 'replace':
      parent[key] = m.value;
      break;
    case 'rename':
      if (!Array.isArray(parent)) {
        delete parent[key];
        Object.defineProperty(parent, m.name, { value: current, enumerable: true, writable: true, configurable: true });
      }
      break;
    case 'wrap-in-list':
      parent[key] = [current];
      break;
    case 'duplicate-into-list':
      parent[key] = Array.from({ length: m.times }, () => current);
      break;
  }
  return copy;
}

type TextMutation =
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'duplicate-line'; line: number }
  | { kind: 'drop-line'; line: number }
  | { kind: 'indent-line'; line: number; by: number };

const YAML_SNIPPETS = [':', ': ', '- ', '-', '[', ']', '{', '}', ',', '&a ', '*a', '!!str ', '!!binary ', '!!map ', '? ', '|', '>', '"', "'", '#', '\t', '\n', '  ', '---\n', '...', '<<: ', '%YAML 1.1\n', '\\', '@', '`', '\0', '\ufeff', '\u2028', 'null', '~'];
const snippet = fc.oneof(fc.constantFrom(...YAML_SNIPPETS), fc.string({ unit: 'binary', maxLength: 8 }));

const textMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), at, text: snippet }),
  fc.record({ kind: fc.constant('delete' as const), at, length: fc.integer({ min: 1, max: 20 }) }),
  fc.record({ kind: fc.constant('duplicate-line' as const), line: at }),
  fc.record({ kind: fc.constant('drop-line' as const), line: at }),
  fc.record({ kind: fc.constant('indent-line' as const), line: at, by: fc.integer({ min: -4, max: 4 }) }),
);

function applyTextMutation(text: string, m: TextMutation): string {
  if (m.kind === 'insert' || m.kind === 'delete') {
    const i = m.at % (text.length + 1);
    return m.kind === 'insert' ? text.slice(0, i) + m.text + text.slice(i) : text.slice(0, i) + text.slice(i + m.length);
  }
  const lines = text.split('\n');
  const i = m.line % lines.length;
  if (m.kind === 'duplicate-line') lines.splice(i, 0, lines[i]);
  else if (m.kind === 'drop-line') lines.splice(i, 1);
  else lines[i] = m.by >= 0 ? ' '.repeat(m.by) + lines[i] : lines[i].slice(-m.by);
  return lines.join('\n');
}

/** YAML, flow YAML or JSON text of a value (what `stringify` cannot write, it is skipped). */
function serialized(value: unknown, style: 'yaml' | 'flow' | 'json'): string {
  try {
    if (style === 'json') return JSON.stringify(value) ?? 'null';
    return stringifyYaml(value, { collectionStyle: style === 'flow' ? 'flow' : 'any', aliasDuplicateObjects: false });
  } catch {
    return String(value);
  }
}

/** A valid manifest with data mutations, written back as YAML or JSON, then text mutations. */
export const mutatedManifest: fc.Arbitrary<string> = fc
  .record({
    base: fc.nat({ max: VALID_MANIFESTS.length - 1 }),
    data: fc.array(dataMutation, { maxLength: 3 }),
    style: fc.constantFrom('yaml' as const, 'flow' as const, 'json' as const),
    text: fc.array(textMutation, { maxLength: 3 }),
  })
  .map(({ base, data, style, text }) => {
    const source = VALID_MANIFESTS[base];
    const value = data.reduce<unknown>((v, m) => applyDataMutation(v as Json, m), parseYaml(source));
    const written = data.length === 0 ? source : serialized(value, style);
    return text.reduce(applyTextMutation, written);
  });

/** Any value as YAML or JSON, alone or as the `annotations`/`config` of a valid manifest. */
export const randomDocument: fc.Arbitrary<string> = fc
  .record({ value: fc.jsonValue(), style: fc.constantFrom('yaml' as const, 'flow' as const, 'json' as const), embed: fc.boolean() })
  .map(({ value, style, embed }) =>
    serialized(embed ? { name: 'w', annotations: value, witWorld: { components: [{ name: 'a', image: 'x', localResources: { config: value } }] } } : value, style),
  );

const YAML_TOKENS = [
  'name: w\n', 'namespace: ', 'witWorld:\n', '  components:\n', '    - name: a\n', '      image: x\n', '      file: a.wasm\n',
  'annotations: ', 'service: ', 'volumes: ', 'config: ', 'localResources: ', 'poolSize: ', 'x', 'a', '0', '-1', '1e999',
  '0x1F', '0o17', '.nan', '-.inf', '~', 'null', 'yes', 'true', '"s"', "'s'",
  '&a ', '&b ', '*a', '*b', '<<: ', '<<: *a\n', '!!binary aGk=', '!!set ', '!!omap ', '!!pairs ', '!!int ', '!!float ', '!!str ', '!!map ',
  '!!seq ', '!!timestamp ', '!local ', '!<tag:yaml.org,2002:str> ', '? ', ': ', '- ', '[', ']', '{', '}', ', ', '|\n', '>-\n',
  '# c\n', '---\n', '...\n', '%YAML 1.1\n', '%YAML 1.2\n', '%TAG !e! tag:e.com,2000:\n', '\n', '  ', '    ', '\t', '\ufeff', '\u2028',
];

/** YAML-ish documents from tokens: every construct of the language, in random order. */
export const yamlTokenSoup: fc.Arbitrary<string> = fc.array(fc.constantFrom(...YAML_TOKENS), { maxLength: 40 }).map((t) => t.join(''));

/**
 * "Billion laughs": each level's anchor is a list of `width` aliases of the level before, so
 * the document is small and its expansion is width^depth. Placed where the schema looks first
 * (the top), or inside a field that takes maps (config).
 */
export const aliasBomb: fc.Arbitrary<string> = fc
  .record({ width: fc.integer({ min: 2, max: 10 }), depth: fc.integer({ min: 2, max: 12 }), inConfig: fc.boolean(), mapStyle: fc.boolean() })
  .map(({ width, depth, inConfig, mapStyle }) => {
    const level = (i: number) => {
      const items = Array.from({ length: width }, (_, j) => (i === 0 ? `lol${j}` : mapStyle ? `k${j}: *l${i - 1}` : `*l${i - 1}`));
      return mapStyle && i > 0 ? `&l${i} {${items.join(', ')}}` : `&l${i} [${items.join(', ')}]`;
    };
    const anchors = Array.from({ length: depth }, (_, i) => `  a${i}: ${level(i)}`).join('\n');
    if (!inConfig) return `name: w\nbombs:\n${anchors}\nboom: *l${depth - 1}\n`;
    return `name: w\nannotations:\n${anchors}\nwitWorld:\n  components:\n    - name: a\n      image: x\n      localResources:\n        config: *l${depth - 1}\n`;
  });

/** Flow or block nesting thousands deep. */
export const deepNesting: fc.Arbitrary<string> = fc
  .record({ depth: fc.integer({ min: 100, max: 5000 }), style: fc.constantFrom('flow-list', 'flow-map', 'block-map', 'block-list') })
  .map(({ depth, style }) => {
    if (style === 'flow-list') return `name: ${'['.repeat(depth)}${']'.repeat(depth)}`;
    if (style === 'flow-map') return `annotations: ${'{a: '.repeat(depth)}x${'}'.repeat(depth)}`;
    const d = Math.min(depth, 3000);
    if (style === 'block-map') return Array.from({ length: d }, (_, i) => `${' '.repeat(i)}a:`).join('\n');
    return Array.from({ length: d }, (_, i) => `${' '.repeat(i)}-`).join('\n');
  });

/** Random text: arbitrary code points, or characters YAML gives meaning to. */
export const randomText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  fc.string({ unit: fc.constantFrom(...':-[]{},&*!|>\'"%@`#? \n\taxn01~.<'.split('')), maxLength: 200 }),
);
