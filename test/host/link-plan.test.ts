// The link plan on its own: version rules (components: identical names; host interfaces:
// semver-compatible), dependency order, and what the errors say.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseInterfaceName } from '../../src/engine/interface-name.ts';
import type { WorldItem } from '../../src/engine/world.ts';
import { MissingImportError, LinkError } from '../../src/errors.ts';
import { covers, needs } from '../../src/host/bind.ts';
import { isWasiInterface, planLinks, type HostProviders, type PlanComponent } from '../../src/host/link-plan.ts';
import { pluginInterface } from '../../src/plugin/plugin.ts';

const item = (name: string): WorldItem => ({ name, kind: 'interface', interfaceName: parseInterfaceName(name) });
const comp = (name: string, imports: string[], exports: string[]): PlanComponent => ({
  name,
  imports: imports.map(item),
  exports: exports.map(item),
  linkable: true,
});
const noHost: HostProviders = { plugin: () => undefined, hint: () => undefined };

test('an import links to the identical export; order puts exporters first', () => {
  const plan = planLinks(
    [comp('entry', ['acme:app/mid@1.0.0'], []), comp('mid', ['acme:app/store@1.0.0'], ['acme:app/mid@1.0.0']), comp('store', [], ['acme:app/store@1.0.0'])],
    noHost,
  );
  assert.deepEqual(plan.order, ['store', 'mid', 'entry']);
  assert.deepEqual(plan.providers.get('entry')!.get('acme:app/mid'), { kind: 'component', component: 'mid', name: 'acme:app/mid@1.0.0' });
});

test('components link only on identical versions; the error points at the near miss', () => {
  assert.throws(
    () => planLinks([comp('a', ['acme:app/store@1.0.0'], []), comp('b', [], ['acme:app/store@1.1.0'])], noHost),
    (err: unknown) => {
      assert.ok(err instanceof MissingImportError);
      assert.equal(err.interfaceName, 'acme:app/store@1.0.0');
      assert.match(err.hint!, /component "b" exports acme:app\/store@1\.1\.0: linked components must use the identical version/);
      return true;
    },
  );
});

test('WASI 0.2.x is the host\'s; other WASI majors and foreign packages are not', () => {
  assert.equal(isWasiInterface(parseInterfaceName('wasi:cli/environment@0.2.0')), true);
  assert.equal(isWasiInterface(parseInterfaceName('wasi:io/streams@0.2.12')), true);
  assert.equal(isWasiInterface(parseInterfaceName('wasi:cli/environment@0.3.0')), false);
  assert.equal(isWasiInterface(parseInterfaceName('wasi:keyvalue/store@0.2.0-draft')), false);
  const plan = planLinks([comp('a', ['wasi:cli/environment@0.2.3'], [])], noHost);
  assert.deepEqual(plan.providers.get('a')!.get('wasi:cli/environment'), { kind: 'wasi' });
});

test('host interfaces match by semver: 1.x serves 1.y, 0.2.x serves 0.2.y, pre-releases only themselves', () => {
  const unit = (name: string) => ({ imports: [item(name)], exports: [] });
  const host = (text: string) => ({ ...pluginInterface(text), config: {} });
  assert.equal(needs(unit('acme:kv/store@1.4.0'), host('acme:kv/store@1.0.0')), true);
  assert.equal(needs(unit('acme:kv/store@2.0.0'), host('acme:kv/store@1.0.0')), false);
  assert.equal(needs(unit('acme:kv/store@0.2.3'), host('acme:kv/store@0.2.0')), true);
  assert.equal(needs(unit('acme:kv/store@0.3.0'), host('acme:kv/store@0.2.0')), false);
  assert.equal(needs(unit('wasi:keyvalue/store@0.2.0-draft'), host('wasi:keyvalue/store@0.2.0-draft')), true);
  assert.equal(needs(unit('wasi:keyvalue/store@0.2.0-draft2'), host('wasi:keyvalue/store@0.2.0-draft')), false);
  assert.equal(needs(unit('acme:kv/store@1.0.0'), host('acme:kv/store,atomics@1.0.0')), false, 'all named interfaces must appear');
  const plugin = { id: 'p', imports: [pluginInterface('acme:kv/store,atomics@1.2.0')], exports: [pluginInterface('acme:kv/watcher@1.2.0')] };
  assert.equal(covers(plugin, host('acme:kv/store,watcher@1.0.0')), true, 'imports and exports together');
  assert.equal(covers(plugin, host('acme:kv/batch@1.0.0')), false);
});

test('a plugin serving an import wins; the hint explains an undeclared one', () => {
  const host: HostProviders = {
    plugin: (_, i) => (i.name.startsWith('acme:kv/') ? 'kv' : undefined),
    hint: () => 'declare it',
  };
  const plan = planLinks([comp('a', ['acme:kv/store@1.0.0'], [])], host);
  assert.deepEqual(plan.providers.get('a')!.get('acme:kv/store'), { kind: 'plugin', pluginId: 'kv' });
  assert.throws(() => planLinks([comp('a', ['acme:other/x@1.0.0'], [])], host), (err: unknown) => (err as MissingImportError).hint === 'declare it');
});

test('a component never links to itself, and a longer cycle is named in full', () => {
  assert.throws(() => planLinks([comp('solo', ['acme:a/x@1.0.0'], ['acme:a/x@1.0.0'])], noHost), MissingImportError);
  assert.throws(
    () =>
      planLinks(
        [comp('a', ['acme:c/b@1.0.0'], ['acme:c/a@1.0.0']), comp('b', ['acme:c/c@1.0.0'], ['acme:c/b@1.0.0']), comp('c', ['acme:c/a@1.0.0'], ['acme:c/c@1.0.0'])],
        noHost,
      ),
    (err: unknown) => err instanceof LinkError && /"a" -> "b" -> "c" -> "a"/.test(err.message),
  );
});
