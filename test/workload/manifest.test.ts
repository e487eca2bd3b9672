import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadWorkloadManifest, parseWorkloadManifest } from '../../src/workload/manifest.ts';
import { validateWorkload } from '../../src/workload/validate.ts';
import type { Workload } from '../../src/workload/types.ts';
import { ManifestError, UsageError, WasmhostError, type ManifestIssue } from '../../src/errors.ts';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

const FULL = `
# Everything a workload can declare.
namespace: shop
name: cart
annotations:
  team: payments
service:
  file: ./service.wasm
  maxRestarts: 3
  localResources:
    environment:
      MODE: worker
    volumeMounts:
      - name: scratch
        mountPath: /tmp
witWorld:
  components:
    - name: api
      file: build/api.wasm
      poolSize: 4
      maxInvocations: 1000
      localResources:
        memoryLimitMb: 128
        cpuLimit: 2
        environment:
          LOG_LEVEL: debug
        config:
          greeting: hello
        allowedHosts: [api.example.com, "*.internal.example.com"]
        volumeMounts:
          - name: data
            mountPath: /data
          - name: assets
            mountPath: /assets
            readOnly: true
    - name: store
      image: ghcr.io/example/store:1.2.0
      digest: ${DIGEST}
      imagePullPolicy: ALWAYS
      imagePullSecret:
        username: robot
        password: s3cret
  hostInterfaces:
    - wasi:keyvalue/store,atomics@0.2.0-draft
    - namespace: wasi
      package: http
      interfaces: [incoming-handler]
      version: 0.2.0
      config:
        host: cart.example.com
    - wasi:logging/logging
volumes:
  - name: data
    hostPath:
      localPath: ./data
  - name: scratch
    emptyDir: {}
  - name: assets
    hostPath: { localPath: /srv/assets }
`;

const defaults = { memoryLimitMb: -1, cpuLimit: -1, config: {}, environment: {}, volumeMounts: [], allowedHosts: [], allowedIpNameLookups: [], allowedHostLoopbackPorts: [] };

const FULL_PARSED: Workload = {
  namespace: 'shop',
  name: 'cart',
  annotations: { team: 'payments' },
  service: {
    file: '/srv/app/service.wasm',
    maxRestarts: 3,
    localResources: { ...defaults, environment: { MODE: 'worker' }, volumeMounts: [{ name: 'scratch', mountPath: '/tmp', readOnly: false }] },
    imagePullPolicy: 'IMAGE_PULL_POLICY_IF_NOT_PRESENT',
  },
  witWorld: {
    components: [
      {
        name: 'api',
        file: '/srv/app/build/api.wasm',
        poolSize: 4,
        maxInvocations: 1000,
        maxConcurrency: 0,
        reclaimWindowSeconds: 0,
        reclaimMinInstances: 0,
        imagePullPolicy: 'IMAGE_PULL_POLICY_IF_NOT_PRESENT',
        localResources: {
          memoryLimitMb: 128,
          cpuLimit: 2,
          environment: { LOG_LEVEL: 'debug' },
          config: { greeting: 'hello' },
          allowedHosts: ['api.example.com', '*.internal.example.com'],
          allowedIpNameLookups: [],
          allowedHostLoopbackPorts: [],
          volumeMounts: [
            { name: 'data', mountPath: '/data', readOnly: false },
            { name: 'assets', mountPath: '/assets', readOnly: true },
          ],
        },
      },
      {
        name: 'store',
        image: 'ghcr.io/example/store:1.2.0',
        digest: DIGEST,
        poolSize: 0,
        maxInvocations: 0,
        maxConcurrency: 0,
        reclaimWindowSeconds: 0,
        reclaimMinInstances: 0,
        imagePullPolicy: 'IMAGE_PULL_POLICY_ALWAYS',
        imagePullSecret: { username: 'robot', password: 's3cret' },
        localResources: defaults,
      },
    ],
    hostInterfaces: [
      { namespace: 'wasi', package: 'keyvalue', interfaces: ['store', 'atomics'], version: '0.2.0-draft', config: {} },
      { namespace: 'wasi', package: 'http', interfaces: ['incoming-handler'], version: '0.2.0', config: { host: 'cart.example.com' } },
      { namespace: 'wasi', package: 'logging', interfaces: ['logging'], version: '', config: {} },
    ],
  },
  volumes: [
    { name: 'data', hostPath: { localPath: '/srv/app/data' } },
    { name: 'scratch', emptyDir: {} },
    { name: 'assets', hostPath: { localPath: '/srv/assets' } },
  ],
};

/** The ManifestError that parsing `text` must throw. */
function errorOf(text: string): ManifestError {
  try {
    parseWorkloadManifest(text, { source: 'workload.yaml', baseDir: '/srv/app' });
  } catch (err) {
    assert.ok(err instanceof ManifestError, `expected a ManifestError, got ${String(err)}`);
    return err;
  }
  assert.fail(`expected this manifest to be rejected:\n${text}`);
}

const issuesOf = (text: string): ManifestIssue[] => [...errorOf(text).issues];
const pathsOf = (text: string) => issuesOf(text).map((i) => i.path);

/** A valid one-component manifest with `extra` YAML lines added to the component. */
const withComponent = (extra: string) => `name: w\nwitWorld:\n  components:\n    - name: api\n      file: api.wasm\n${extra}`;

test('a full YAML manifest parses into a complete workload, files resolved against baseDir', () => {
  assert.deepEqual(parseWorkloadManifest(FULL, { baseDir: '/srv/app' }), FULL_PARSED);
});

test('the same manifest as JSON parses to the same workload', () => {
  const json = JSON.stringify(parseYaml(FULL), null, 2);
  assert.ok(json.trimStart().startsWith('{'));
  assert.deepEqual(parseWorkloadManifest(json, { baseDir: '/srv/app' }), FULL_PARSED);
});

test('snake_case field names are accepted, as proto3 JSON allows', () => {
  const snake = `
name: cart
wit_world:
  components:
    - name: api
      file: api.wasm
      pool_size: 2
      max_invocations: 10
      max_concurrency: 1
      image_pull_policy: IMAGE_PULL_POLICY_NEVER
      local_resources:
        memory_limit_mb: 64
        cpu_limit: 1
        allowed_hosts: [example.com]
        allowed_ip_name_lookups: ["*.example.com"]
        allowed_host_loopback_ports: ["5432", 53/udp]
        environment: { SOME_VAR: x }
        volume_mounts:
          - { name: data, mount_path: /data, read_only: true }
    - name: store
      image: ghcr.io/x/store:1
      image_pull_secret: { username: u, password: p }
  host_interfaces: [wasi:logging/logging]
service:
  image: ghcr.io/x/svc:1
  max_restarts: "5"
volumes:
  - name: data
    host_path: { local_path: /var/data }
  - name: tmp
    empty_dir: {}
`;
  const w = parseWorkloadManifest(snake, { baseDir: '/srv/app' });
  assert.deepEqual(w.witWorld.components[0], {
    name: 'api',
    file: '/srv/app/api.wasm',
    poolSize: 2,
    maxInvocations: 10,
    maxConcurrency: 1,
    reclaimWindowSeconds: 0,
    reclaimMinInstances: 0,
    imagePullPolicy: 'IMAGE_PULL_POLICY_NEVER',
    localResources: {
      ...defaults,
      memoryLimitMb: 64,
      cpuLimit: 1,
      allowedHosts: ['example.com'],
      allowedIpNameLookups: ['*.example.com'],
      allowedHostLoopbackPorts: ['5432', '53/udp'],
      environment: { SOME_VAR: 'x' },
      volumeMounts: [{ name: 'data', mountPath: '/data', readOnly: true }],
    },
  });
  assert.deepEqual(w.witWorld.components[1].imagePullSecret, { username: 'u', password: 'p' });
  assert.equal(w.witWorld.hostInterfaces[0].package, 'logging');
  assert.equal(w.service?.maxRestarts, 5);
  assert.deepEqual(w.volumes, [
    { name: 'data', hostPath: { localPath: '/var/data' } },
    { name: 'tmp', emptyDir: {} },
  ]);
  // Map keys are data, not field names: they keep their underscores.
  assert.deepEqual(Object.keys(w.witWorld.components[0].localResources.environment), ['SOME_VAR']);
});

test('a minimal manifest gets every default of the reference', () => {
  const w = parseWorkloadManifest('name: w\nwitWorld:\n  components: [{name: a, image: "ghcr.io/x/a:1"}]\n');
  assert.deepEqual(w, {
    namespace: 'default',
    name: 'w',
    annotations: {},
    witWorld: {
      components: [
        { name: 'a', image: 'ghcr.io/x/a:1', poolSize: 0, maxInvocations: 0, maxConcurrency: 0, reclaimWindowSeconds: 0, reclaimMinInstances: 0, imagePullPolicy: 'IMAGE_PULL_POLICY_IF_NOT_PRESENT', localResources: defaults },
      ],
      hostInterfaces: [],
    },
    volumes: [],
  });
});

test('image pull policies by proto name, short name or number; UNSPECIFIED means IF_NOT_PRESENT', () => {
  const policyOf = (p: string) => parseWorkloadManifest(`name: w\nservice: {image: x, imagePullPolicy: ${p}}`).service?.imagePullPolicy;
  assert.equal(policyOf('ALWAYS'), 'IMAGE_PULL_POLICY_ALWAYS');
  assert.equal(policyOf('IMAGE_PULL_POLICY_NEVER'), 'IMAGE_PULL_POLICY_NEVER');
  assert.equal(policyOf('IF_NOT_PRESENT'), 'IMAGE_PULL_POLICY_IF_NOT_PRESENT');
  assert.equal(policyOf('UNSPECIFIED'), 'IMAGE_PULL_POLICY_IF_NOT_PRESENT');
  assert.equal(policyOf('1'), 'IMAGE_PULL_POLICY_ALWAYS');
});

test('proto3 JSON conveniences: integers as strings, null as not set', () => {
  const w = parseWorkloadManifest(withComponent('      poolSize: "7"\n      localResources: {memoryLimitMb: "256"}\n      digest: ~\nannotations: ~\n'));
  assert.equal(w.witWorld.components[0].poolSize, 7);
  assert.equal(w.witWorld.components[0].localResources.memoryLimitMb, 256);
  assert.equal('digest' in w.witWorld.components[0], false);
  assert.deepEqual(w.annotations, {});
});

test('a relative file resolves against the working directory when no baseDir is given; absolute files stay', () => {
  const w = parseWorkloadManifest('name: w\nwitWorld: {components: [{name: a, file: a.wasm}, {name: b, file: /abs/b.wasm}]}');
  assert.equal(w.witWorld.components[0].file, resolve('a.wasm'));
  assert.equal(w.witWorld.components[1].file, '/abs/b.wasm');
});

test('the reported path is the exact path of the bad field', () => {
  const cases: [string, string, string, RegExp | string][] = [
    ['a wrong type at the top', 'name: 5\nservice: {image: x}', 'name', 'expected a non-empty string, got 5'],
    [
      'a word for a number, deep down',
      withComponent('    - name: b\n      image: x\n      localResources:\n        memoryLimitMb: lots\n'),
      'witWorld.components[1].localResources.memoryLimitMb',
      'expected an integer >= -1, got "lots"',
    ],
    ['a fraction for an integer', withComponent('      poolSize: 1.5\n'), 'witWorld.components[0].poolSize', 'expected an integer >= 0, got 1.5'],
    ['a negative pool', withComponent('      maxInvocations: -1\n'), 'witWorld.components[0].maxInvocations', 'expected an integer >= 0, got -1'],
    ['reclaiming without a pool', withComponent('      reclaimWindowSeconds: 60\n'), 'witWorld.components[0].reclaimWindowSeconds', 'reclaiming needs warm instances to reclaim: set poolSize too'],
    ['a reclaim minimum over the pool', withComponent('      poolSize: 2\n      reclaimWindowSeconds: 60\n      reclaimMinInstances: 3\n'), 'witWorld.components[0].reclaimMinInstances', '3 is more than poolSize (2)'],
    ['a fractional reclaim window', withComponent('      poolSize: 2\n      reclaimWindowSeconds: 0.5\n'), 'witWorld.components[0].reclaimWindowSeconds', 'expected an integer >= 0, got 0.5'],
    ['an int32 overflow', withComponent('      poolSize: 3000000000\n'), 'witWorld.components[0].poolSize', 'expected an integer <= 2147483647, got 3000000000'],
    ['a string for a bool', withComponent('      localResources:\n        volumeMounts: [{name: d, mountPath: /d, readOnly: "yes"}]\nvolumes: [{name: d, emptyDir: {}}]\n'), 'witWorld.components[0].localResources.volumeMounts[0].readOnly', 'expected true or false, got "yes"'],
    ['a number in a string map', withComponent('      localResources:\n        environment: {PORT: 8080}\n'), 'witWorld.components[0].localResources.environment.PORT', 'expected a string, got 8080'],
    ['an odd map key is quoted in the path', withComponent('      localResources:\n        config: {"a.b": true}\n'), 'witWorld.components[0].localResources.config["a.b"]', 'expected a string, got true'],
    ['a list for a map', 'name: w\nannotations: [a]\nservice: {image: x}', 'annotations', 'expected a map of strings, got a list'],
    ['a map for a list', withComponent('      localResources:\n        allowedHosts: {a: b}\n'), 'witWorld.components[0].localResources.allowedHosts', 'expected a list, got a map'],
    ['a bad pull policy', withComponent('      imagePullPolicy: sometimes\n'), 'witWorld.components[0].imagePullPolicy', /expected one of UNSPECIFIED, ALWAYS, IF_NOT_PRESENT, NEVER .*got "sometimes"/],
    ['a bad digest', withComponent('      digest: abc\n'), 'witWorld.components[0].digest', /expected an OCI digest .* got "abc"/],
    ['an image with spaces', 'name: w\nservice: {image: "ghcr.io/a b"}', 'service.image', /expected an OCI reference .* got "ghcr.io\/a b"/],
    ['a relative mount path', withComponent('      localResources:\n        volumeMounts: [{name: d, mountPath: data}]\nvolumes: [{name: d, emptyDir: {}}]\n'), 'witWorld.components[0].localResources.volumeMounts[0].mountPath', 'expected an absolute guest path such as /data, got "data"'],
    ['a component that is not a map', 'name: w\nwitWorld: {components: [oops]}', 'witWorld.components[0]', 'expected a component, got "oops"'],
    ['a top level that is a list', '- a\n- b\n', '', 'expected a workload, got a list'],
    ['a missing workload name', 'namespace: x\nservice: {image: x}', 'name', 'missing (expected a non-empty string)'],
    ['an empty workload name', 'name: ""\nservice: {image: x}', 'name', 'expected a non-empty string, got ""'],
    ['a missing component name', 'name: w\nwitWorld: {components: [{file: a.wasm}]}', 'witWorld.components[0].name', 'missing (expected a non-empty string)'],
    ['a missing mount name', withComponent('      localResources: {volumeMounts: [{mountPath: /d}]}\n'), 'witWorld.components[0].localResources.volumeMounts[0].name', 'missing (expected the name of a volume)'],
    ['two sources', 'name: w\nwitWorld: {components: [{name: a, file: a.wasm, image: "ghcr.io/x/a:1"}]}', 'witWorld.components[0]', 'expected exactly one of "file", "image" or "bytes", got "file" and "image"'],
    ['no source', 'name: w\nwitWorld: {components: [{name: a}]}', 'witWorld.components[0]', 'expected exactly one of "file", "image" or "bytes", got none'],
    ['a service without a source', 'name: w\nservice: {maxRestarts: 1}', 'service', 'expected exactly one of "file", "image" or "bytes", got none'],
    ['bytes in a manifest', 'name: w\nwitWorld: {components: [{name: a, bytes: AGFzbQ==}]}', 'witWorld.components[0].bytes', /bytes can only be given by an embedding program/],
    ['a volume of no kind', 'name: w\nservice: {image: x}\nvolumes: [{name: v, emptyDir: ~}]', 'volumes[0]', /got none \(an empty directory is written `emptyDir: \{\}`\)/],
    ['a volume of two kinds', 'name: w\nservice: {image: x}\nvolumes: [{name: v, emptyDir: {}, hostPath: {localPath: /x}}]', 'volumes[0]', 'expected exactly one of "hostPath" or "emptyDir", got "hostPath" and "emptyDir"'],
    ['duplicate component names', withComponent('    - name: b\n      file: b.wasm\n    - name: api\n      file: c.wasm\n'), 'witWorld.components[2].name', 'duplicate name "api" (also used by witWorld.components[0])'],
    ['duplicate volume names', 'name: w\nservice: {image: x}\nvolumes: [{name: v, emptyDir: {}}, {name: v, emptyDir: {}}]', 'volumes[1].name', 'duplicate name "v" (also used by volumes[0])'],
    ['a mount of an undeclared volume', withComponent('      localResources:\n        volumeMounts: [{name: d, mountPath: /d}, {name: nope, mountPath: /n}]\nvolumes: [{name: d, emptyDir: {}}]\n'), 'witWorld.components[0].localResources.volumeMounts[1].name', 'no volume named "nope" in volumes (declared: "d")'],
    ['a service mount with no volumes at all', 'name: w\nservice: {image: x, localResources: {volumeMounts: [{name: d, mountPath: /d}]}}', 'service.localResources.volumeMounts[0].name', 'no volume named "d" in volumes (none is declared)'],
    ['two mounts at one guest path', withComponent('      localResources:\n        volumeMounts: [{name: d, mountPath: /d}, {name: d, mountPath: /d}]\nvolumes: [{name: d, emptyDir: {}}]\n'), 'witWorld.components[0].localResources.volumeMounts[1].mountPath', '"/d" is already mounted by witWorld.components[0].localResources.volumeMounts[0]'],
    ['nothing to run', 'name: w\n', 'witWorld.components', 'a workload needs at least one component or a service'],
    ['a bad host interface string', withComponent('  hostInterfaces: [wasi:logging/logging, "wasi:keyvalue"]\n'), 'witWorld.hostInterfaces[1]', /"wasi:keyvalue" is not a host interface: expected ns:pkg\/iface1,iface2@version/],
    ['a bad host interface version', withComponent('  hostInterfaces: [{namespace: wasi, package: http, interfaces: [incoming-handler], version: "0.2 0"}]\n'), 'witWorld.hostInterfaces[0].version', 'expected a version such as "0.2.0-draft" or none, got "0.2 0"'],
    ['a number for a host interface version', withComponent('  hostInterfaces: [{namespace: wasi, package: http, interfaces: [incoming-handler], version: 0.2}]\n'), 'witWorld.hostInterfaces[0].version', 'expected a string, got 0.2'],
    ['a snake_case path is reported as written', withComponent('      local_resources:\n        memory_limit_mb: lots\n'), 'witWorld.components[0].local_resources.memory_limit_mb', 'expected an integer >= -1, got "lots"'],
    ['a field given in both spellings', withComponent('      poolSize: 1\n      pool_size: 2\n'), 'witWorld.components[0].pool_size', 'given twice, as "pool_size" and "poolSize"'],
  ];
  for (const [what, text, path, message] of cases) {
    const issues = issuesOf(text);
    assert.deepEqual(issues.map((i) => i.path), [path], what);
    if (typeof message === 'string') assert.equal(issues[0].message, message, what);
    else assert.match(issues[0].message, message, what);
  }
});

test('unknown fields are errors at every depth, with a suggestion when one is close', () => {
  const cases: [string, string, string][] = [
    ['name: w\nlabels: {a: b}\nservice: {image: x}', 'labels', 'unknown field (expected one of namespace, name, annotations, service, witWorld, volumes)'],
    ['name: w\nwitWorld:\n  components: [{name: a, image: x}]\n  hostInterface: [wasi:logging/logging]', 'witWorld.hostInterface', 'unknown field (did you mean "hostInterfaces"?)'],
    ['name: w\nhostInterfaces: []\nservice: {image: x}', 'hostInterfaces', 'unknown field here (it belongs in witWorld.hostInterfaces)'],
    ['name: w\nhostInterface: []\nservice: {image: x}', 'hostInterface', 'unknown field (did you mean witWorld.hostInterfaces?)'],
    [withComponent('      environment: {A: b}\n'), 'witWorld.components[0].environment', 'unknown field here (it belongs in localResources.environment)'],
    [withComponent('      imagepullpolicy: ALWAYS\n'), 'witWorld.components[0].imagepullpolicy', 'unknown field (did you mean "imagePullPolicy"?)'],
    [withComponent('      localResources: {memoryLimit: 5}\n'), 'witWorld.components[0].localResources.memoryLimit', 'unknown field (did you mean "memoryLimitMb"?)'],
    [withComponent('      localResources:\n        volumeMounts: [{name: d, mountPath: /d, readonly: true}]\nvolumes: [{name: d, emptyDir: {}}]\n'), 'witWorld.components[0].localResources.volumeMounts[0].readonly', 'unknown field (did you mean "readOnly"?)'],
    [withComponent('      imagePullSecret: {username: u, password: p, token: t}\n'), 'witWorld.components[0].imagePullSecret.token', 'unknown field (expected one of username, password)'],
    ['name: w\nservice: {image: x, restarts: 3}', 'service.restarts', 'unknown field (did you mean "maxRestarts"?)'],
    [withComponent('      localResources: {mounts: []}\n'), 'witWorld.components[0].localResources.mounts', 'unknown field (did you mean "volumeMounts"?)'],
    ['name: w\nwitWorld: {components: [{name: a, image: x}], interfaces: []}', 'witWorld.interfaces', 'unknown field (did you mean "hostInterfaces"?)'],
    ['name: w\nservice: {image: x}\nvolumes: [{name: v, hostPath: {localPath: /x, type: Directory}}]', 'volumes[0].hostPath.type', 'unknown field (expected one of localPath)'],
    ['name: w\nservice: {image: x}\nvolumes: [{name: v, emptyDir: {medium: Memory}}]', 'volumes[0].emptyDir.medium', 'unknown field (expected none)'],
    [withComponent('  hostInterfaces: [{namespace: wasi, package: http, interfaces: [x], configs: {}}]\n'), 'witWorld.hostInterfaces[0].configs', 'unknown field (did you mean "config"?)'],
    ['name: w\nservice: {image: x}\n__proto__: {polluted: true}', '__proto__', 'unknown field (expected one of namespace, name, annotations, service, witWorld, volumes)'],
    ['name: w\nservice: {image: x}\nstray: ~', 'stray', 'unknown field (expected one of namespace, name, annotations, service, witWorld, volumes)'],
  ];
  for (const [text, path, message] of cases) {
    assert.deepEqual(issuesOf(text).map((i) => [i.path, i.message]), [[path, message]], text);
  }
});

test('every problem is reported at once, in document order, with line and column', () => {
  const text = `name: 7
witWorld:
  components:
    - name: api
      file: a.wasm
      image: ghcr.io/x/a:1
      localResources:
        memoryLimitMb: lots
        volumeMounts: [{name: nope, mountPath: /n}]
    - name: api
      file: b.wasm
  hostInterface: []
  hostInterfaces: ["wasi:keyvalue@1"]
volumes:
  - name: v
    emptyDir: {medium: Memory}
`;
  const issues = issuesOf(text);
  assert.deepEqual(
    issues.map((i) => [i.path, i.line, i.column]),
    [
      ['name', 1, 1],
      ['witWorld.components[0]', 4, 7],
      ['witWorld.components[0].localResources.memoryLimitMb', 8, 9],
      ['witWorld.components[0].localResources.volumeMounts[0].name', 9, 25],
      ['witWorld.components[1].name', 10, 7],
      ['witWorld.hostInterface', 12, 3],
      ['witWorld.hostInterfaces[0]', 13, 20],
      ['volumes[0].emptyDir.medium', 16, 16],
    ],
  );
});

test('the error is a coded WasmhostError whose message lists source, paths and positions', () => {
  const err = errorOf('name: w\nwitWorld: {components: [{name: a}]}\nextra: 1\n');
  assert.ok(err instanceof WasmhostError);
  assert.equal(err.code, 'WASMHOST_INVALID_MANIFEST');
  assert.equal(err.name, 'ManifestError');
  assert.equal(
    err.message,
    'invalid workload in workload.yaml:\n' +
      '  witWorld.components[0]: expected exactly one of "file", "image" or "bytes", got none (line 2, column 25)\n' +
      '  extra: unknown field (expected one of namespace, name, annotations, service, witWorld, volumes) (line 3, column 1)',
  );
});

test('YAML and JSON syntax errors carry line and column', () => {
  const cases: [string, number, number, RegExp][] = [
    ['name: w\nwitWorld:\n  components: [a, b\n', 4, 1, /flow sequence/i],
    ['name: w\nname: v\n', 2, 1, /unique/i],
    ['name: w\n\tservice: {}\n', 2, 1, /tab/i],
    ['name: a\n---\nname: b\n', 2, 1, /multiple documents|single document/i],
    ['{\n  "name": "w",\n  "witWorld": {"components": [}\n}\n', 3, 31, /./],
  ];
  for (const [text, line, column, why] of cases) {
    const issues = issuesOf(text);
    assert.equal(issues[0].path, '', text);
    assert.match(issues[0].message, /^invalid YAML: /, text);
    assert.match(issues[0].message, why, text);
    assert.deepEqual([issues[0].line, issues[0].column], [line, column], `${text}: ${issues[0].message}`);
  }
  assert.deepEqual(issuesOf(''), [{ path: '', message: 'the manifest is empty (expected a workload)' }]);
  assert.deepEqual(issuesOf('# only a comment\n'), [{ path: '', message: 'the manifest is empty (expected a workload)' }]);
});

test('loadWorkloadManifest reads a file and resolves paths against its folder', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wasmhost-manifest-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'app'));
  const file = join(dir, 'app', 'workload.yaml');
  await writeFile(file, 'name: w\nwitWorld: {components: [{name: a, file: build/a.wasm}]}\nvolumes: [{name: d, hostPath: {localPath: ../data}}]\n');
  const w = await loadWorkloadManifest(file);
  assert.equal(w.witWorld.components[0].file, join(dir, 'app', 'build', 'a.wasm'));
  assert.deepEqual(w.volumes, [{ name: 'd', hostPath: { localPath: join(dir, 'data') } }]);

  await writeFile(file, 'name: w\nwitWorld: {components: [{name: a}]}\n');
  await assert.rejects(loadWorkloadManifest(file), (err: unknown) => {
    assert.ok(err instanceof ManifestError);
    assert.match(err.message, new RegExp(`^invalid workload in ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:`));
    return true;
  });
  await assert.rejects(loadWorkloadManifest(join(dir, 'missing.yaml')), (err: unknown) => {
    assert.ok(err instanceof UsageError);
    assert.match(err.message, /cannot read workload manifest .*missing\.yaml: ENOENT/);
    return true;
  });
});

test('validateWorkload: the embedding API may pass bytes; problems are the same ManifestError', () => {
  const bytes = new Uint8Array([0, 97, 115, 109]);
  const w = validateWorkload({ name: 'w', witWorld: { components: [{ name: 'a', bytes }] } });
  assert.equal(w.witWorld.components[0].bytes, bytes);
  assert.equal(w.witWorld.components[0].file, undefined);

  assert.throws(
    () => validateWorkload({ name: 'w', witWorld: { components: [{ name: 'a', bytes: [0, 97] }] }, volumes: 'none' }, { source: 'the start request' }),
    (err: unknown) => {
      assert.ok(err instanceof ManifestError);
      assert.deepEqual(err.issues.map((i) => i.path), ['witWorld.components[0].bytes', 'volumes']);
      assert.match(err.message, /^invalid workload in the start request:/);
      return true;
    },
  );
});

test('independent faults in sibling fields are both reported', () => {
  assert.deepEqual(pathsOf('name: 1\nservice: {}\n'), ['name', 'service']);
});

test('a validated workload validates to itself (the host may check one twice)', () => {
  const w = parseWorkloadManifest(FULL, { baseDir: '/srv/app' });
  assert.deepEqual(validateWorkload(w, { baseDir: '/elsewhere' }), FULL_PARSED);
});

test('a component may not be called "service" when the workload has a service', () => {
  const value = { namespace: 'n', name: 'w', service: { file: 's.wasm' }, witWorld: { components: [{ name: 'service', file: 'c.wasm' }] } };
  assert.throws(() => validateWorkload(value), (err: unknown) => {
    assert.ok(err instanceof ManifestError);
    assert.deepEqual(err.issues.map((i) => i.path), ['witWorld.components[0].name']);
    assert.match(err.issues[0].message, /reserved for the workload's service/);
    return true;
  });
  const withoutService = { namespace: 'n', name: 'w', witWorld: { components: [{ name: 'service', file: 'c.wasm' }] } };
  assert.equal(validateWorkload(withoutService).witWorld.components[0].name, 'service');
});

test('localResources.timeout takes a duration (ours, proto3 style or a number of ms) and names a bad one', () => {
  for (const [written, kept] of [['2s', '2s'], ['500ms', '500ms'], ['1.5s', '1.5s'], ['"250"', '250']]) {
    const w = parseWorkloadManifest(withComponent(`      localResources: {timeout: ${written}}\n`));
    assert.equal(w.witWorld.components[0].localResources.timeout, kept);
  }
  assert.equal('timeout' in parseWorkloadManifest(withComponent('')).witWorld.components[0].localResources, false, 'absent = the host default');
  for (const bad of ['soon', '0s', '-1s', '5']) {
    const issues = issuesOf(withComponent(`      localResources: {timeout: ${bad}}\n`));
    assert.equal(issues[0]?.path, 'witWorld.components[0].localResources.timeout', bad);
    assert.match(issues[0].message, /expected a (positive )?duration such as 500ms, 30s or 2m/, bad);
  }
  // Node's timers hold at most 2^31 - 1 ms: a longer timeout would fire after 1 ms.
  assert.equal(parseWorkloadManifest(withComponent('      localResources: {timeout: 24d}\n')).witWorld.components[0].localResources.timeout, '24d');
  for (const tooLong of ['25d', '"2147483648"', '1y']) {
    const issues = issuesOf(withComponent(`      localResources: {timeout: ${tooLong}}\n`));
    assert.match(issues[0]?.message ?? '', /expected a duration of at most 24 days \(Node's timers go no further\)/, tooLong);
  }
  assert.deepEqual(pathsOf(withComponent('      timeout: 2s\n')), ['witWorld.components[0].timeout'], 'on the component itself it is misplaced');
  assert.match(issuesOf(withComponent('      timeout: 2s\n'))[0].message, /localResources\.timeout/);
});
