#!/usr/bin/env node
// The wasmhost command. Needs Node >= 24 (JSPI). In a clone of the repository it runs the
// TypeScript source (Node strips the types); an installed package ships only the build in dist/.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
const fromSource = existsSync(source);
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  const hint = fromSource
    ? "run it through npm (npx wasmhost), which uses the project's pinned Node 24"
    : 'install Node.js 24 or later (https://nodejs.org, or a version manager: nvm install 24), then run wasmhost with it';
  process.stderr.write(`error: wasmhost needs Node.js >= 24 (this is ${process.version})\nhint: ${hint}\n`);
  process.exit(1);
}
const { main } = await import(fromSource ? source.href : '../dist/cli/main.js');
const code = await main(process.argv.slice(2));
// Let buffered output reach its destination before exiting.
await new Promise((resolve) => process.stdout.write('', resolve));
await new Promise((resolve) => process.stderr.write('', resolve));
process.exit(code);
