// Preloaded with --import by without-telemetry.test.ts: reports on stderr every @opentelemetry
// package the process resolves.
import { registerHooks } from 'node:module';

registerHooks({
  resolve(specifier, context, next) {
    if (specifier.startsWith('@opentelemetry/')) process.stderr.write(`resolved ${specifier}\n`);
    return next(specifier, context);
  },
});
