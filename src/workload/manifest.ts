/**
 * Workload manifests: YAML or JSON text (JSON is read as the YAML it also is) in the wire
 * shape. Errors carry the line and column of the field they are about.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { isAlias, isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { ManifestError, UsageError, type ManifestIssue } from '../errors.ts';
import { formatPath } from './proto-json.ts';
import type { Workload } from './types.ts';
import { checkWorkload, resolvePaths } from './validate.ts';

export interface ManifestOptions {
  /** Named in errors, usually the file's path. */
  source?: string;
  /** What relative `file` and host paths are relative to: the manifest's folder (default: the working directory). */
  baseDir?: string;
}

export function parseWorkloadManifest(text: string, options: ManifestOptions = {}): Workload {
  const lines = new LineCounter();
  // logLevel 'error': a collection used as a map key would otherwise print a process warning.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, logLevel: 'error' });
  const at = (offset: number | undefined) => {
    if (offset === undefined) return {};
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };
  if (doc.errors.length) {
    const issues = doc.errors.map((e) => ({ path: '', message: `invalid YAML: ${e.message}`, ...at(e.pos[0]) }));
    throw new ManifestError(issues, { source: options.source });
  }
  if (doc.contents === null) throw new ManifestError([{ path: '', message: 'the manifest is empty (expected a workload)' }], { source: options.source });
  let value: unknown;
  try {
    value = doc.toJS(); // resolves aliases: an unknown anchor or an alias bomb fails here
  } catch (err) {
    throw new ManifestError([{ path: '', message: `invalid YAML: ${(err as Error).message}` }], { source: options.source, cause: err });
  }
  const result = checkWorkload(value);
  if ('issues' in result) {
    const issues: ManifestIssue[] = result.issues.map((i) => ({ path: formatPath(i.path), message: i.message, ...at(offsetOf(doc, i.path)) }));
    issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
    throw new ManifestError(issues, { source: options.source });
  }
  return resolvePaths(result.workload, options.baseDir ?? process.cwd());
}

/** Reads a manifest file; relative paths in it are relative to its folder. */
export async function loadWorkloadManifest(path: string): Promise<Workload> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read workload manifest ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseWorkloadManifest(text, { source: path, baseDir: dirname(resolve(path)) });
}

/** Where the field at `path` is written: its key, or the nearest enclosing node that exists. */
function offsetOf(doc: Document, path: (string | number)[]): number | undefined {
  let node: unknown = doc.contents;
  let offset = doc.contents?.range?.[0];
  for (const key of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key));
      if (!pair) break;
      offset = isScalar(pair.key) ? (pair.key.range?.[0] ?? offset) : offset;
      node = pair.value;
    } else if (isSeq(node) && typeof key === 'number' && isNode(node.items[key])) {
      node = node.items[key];
      offset = isNode(node) ? (node.range?.[0] ?? offset) : offset;
    } else break;
  }
  return offset;
}
