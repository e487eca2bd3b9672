#!/usr/bin/env node
// The wasmhost command. Needs Node >= 24 (JSPI and TypeScript type stripping).
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(`error: wasmhost needs Node.js >= 24 (this is ${process.version})\nhint: run it through npm (npx wasmhost), which uses the project's pinned Node 24\n`);
  process.exit(1);
}
const { main } = await import('../src/cli/main.ts');
const code = await main(process.argv.slice(2));
// Let buffered output reach its destination before exiting.
await new Promise((resolve) => process.stdout.write('', resolve));
await new Promise((resolve) => process.stderr.write('', resolve));
process.exit(code);
