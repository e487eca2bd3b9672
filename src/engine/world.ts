import { parseInterfaceName, type InterfaceName } from './interface-name.ts';

/** One import or export of a component's world. */
export interface WorldItem {
  /** As written in WIT: `wasi:cli/environment@0.2.3`, or a bare function name such as `add`. */
  name: string;
  kind: 'interface' | 'function';
  /** Set for interfaces named `ns:pkg/iface[@version]`. */
  interfaceName?: InterfaceName;
}

export interface World {
  imports: WorldItem[];
  exports: WorldItem[];
}

/**
 * Reads the imports and exports of the world that `wasm-tools component wit` prints for a
 * component. Written by hand because the WIT printer's output is the only description jco
 * exposes with versions, and only its world block matters here.
 */
export function parseWorld(wit: string): World {
  const world: World = { imports: [], exports: [] };
  const lines = wit.split('\n');
  const start = lines.findIndex((l) => /^world\s+\S+\s*\{/.test(l.trim()));
  if (start === -1) return world;
  let depth = 1;
  for (let i = start + 1; i < lines.length && depth > 0; i++) {
    const line = lines[i].trim();
    if (depth === 1) {
      const m = /^(import|export)\s+(.+?);?$/.exec(line);
      if (m) {
        const list = m[1] === 'import' ? world.imports : world.exports;
        list.push(toItem(m[2]));
      }
    }
    for (const ch of line) {
      if (ch === '{') depth++;
      else if (ch === '}') depth--;
    }
  }
  return world;
}

function toItem(text: string): WorldItem {
  const colon = /^([a-z][a-z0-9-]*)\s*:\s*(func|interface|async\s+func)\b/.exec(text);
  if (colon) return { name: colon[1], kind: colon[2].startsWith('interface') ? 'interface' : 'function' };
  const name = text.replace(/;$/, '').trim();
  const parsed = parseInterfaceName(name);
  return parsed ? { name, kind: 'interface', interfaceName: parsed } : { name, kind: 'interface' };
}
