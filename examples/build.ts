// Builds every example into examples/<name>/build/<name>.wasm (gitignored).
//
//   ./node_modules/.bin/node examples/build.ts [--force] [--wit] [name...]
//
// An example is a folder holding component.js and wit/ (world <name>), built with componentize-js
// exactly as the JavaScript test fixtures are (../test/fixtures/build.ts: wit/ is staged with WASI
// 0.2.12 and the host's packages as deps, and an output is rebuilt only when its stamp is stale).

import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildJsComponent, jsStampInputs, runBuild, type BuildTarget } from '../test/fixtures/build.ts';
import { exampleOutputPath, examplesDir } from '../test/fixtures/index.ts';

/** The examples, by folder name. */
export const exampleNames: readonly string[] = readdirSync(examplesDir, { withFileTypes: true })
  .filter((e) => e.isDirectory() && existsSync(join(examplesDir, e.name, 'component.js')))
  .map((e) => e.name)
  .sort();

function exampleTarget(name: string): BuildTarget {
  const dir = join(examplesDir, name);
  return {
    name,
    kind: 'js',
    output: exampleOutputPath(name),
    // the output sits in the folder it is built from: leave it out of its own stamp
    stamp: jsStampInputs(dir, { scripts: [fileURLToPath(import.meta.url)], skip: [join(dir, 'build')] }),
    build: () => buildJsComponent({ sourcePath: join(dir, 'component.js'), witDir: join(dir, 'wit'), world: name }),
  };
}

if (import.meta.main) {
  const targets = new Map(exampleNames.map((name) => [name, () => exampleTarget(name)]));
  process.exitCode = await runBuild(targets, process.argv.slice(2), 'example');
}
