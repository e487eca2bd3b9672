// The differential check against jco's glue on every fixture. For each name in `fixtureNames`
// (test/fixtures/index.ts) a scenario runs the same calls on a fresh wasmhost instance
// (`Engine.compile` + `instantiate`) and on a fresh instance of jco's generated glue
// (test/oracle/jco.ts), each with its own copy of the same host imports: WASI from
// `createWasiImports` with one `WasiContext` per runtime, `wasi:http/types` from src/http/types,
// and small in-memory fakes written here for keyvalue, blobstore, config, logging, messaging and
// postgres. Components importing another component's interface get an instance of that component
// from the same runtime (wasmhost's exporter for wasmhost's importer, jco's for jco's).
//
// Every outcome is recorded under a label: a value, or a failure as its class name, message,
// trap-ness, WIT payload and exit code. The two records must be deepStrictEqual (after undoing
// two rewordings of jco's: its trap messages and its ComponentError message, see `normalizeJco`),
// except for the labels a scenario lists in `differences`, where each runtime's answer is asserted
// as written there with the verdict: which one is wrong (CanonicalABI.md decides; for host values,
// the JS API section of the component model's Explainer.md), or why both answers are acceptable.
// Each scenario also asserts the expected values themselves on wasmhost's record, so two runtimes
// wrong in the same way still fail (a difference where wasmhost is the one that is wrong is a bug
// to fix, not to pin). Then the import members each runtime asks of the host are compared: wasmhost asks for a subset of what
// jco's glue takes (jco also destructures every resource class of an imported interface, used or
// not).
//
// What jco cannot run is still listed, checked on wasmhost alone, with a skipped subtest stating
// what jco says (and a check that it still says so): core modules (`not-wasi-module`; `hello-p1`
// runs on jco as the component wasmhost wraps it into), and `latin1+utf16` strings (`encodings`,
// `composed`: jco's transpiler panics, which poisons it for the rest of the process, so that
// refusal is checked in a child process). Their other exports are compared on copies where
// `latin1+utf16` is replaced by an encoding jco handles, which both runtimes run.
//
// Each component is compiled once per runtime for the whole file (the JS fixtures are ~12 MB).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { promisify } from 'node:util';
import { parse as jcoParse } from '@bytecodealliance/jco';
import { pino } from 'pino';
import {
  Engine,
  ExitError,
  TrapError,
  WasiContext,
  createWasiImports,
  type ImportObject,
  type Instance,
  type WasiOptions,
} from '../../src/index.ts';
import { wrapPreview1 } from '../../src/engine/preview1.ts';
import { readableBody } from '../../src/http/node-body.ts';
import type { ErrorCode } from '../../src/http/types/error-code.ts';
import { Fields } from '../../src/http/types/fields.ts';
import { httpTypes } from '../../src/http/types/index.ts';
import {
  FutureIncomingResponse,
  IncomingRequest,
  IncomingResponse,
  OutgoingRequest,
  OutgoingResponse,
  RequestOptions,
  ResponseOutparam,
  methodName,
} from '../../src/http/types/messages.ts';
import { BytesSource, MemorySink } from '../../src/wasi/io/pipes.ts';
import { InputStream, OutputStream } from '../../src/wasi/io/streams.ts';
import { fixtureNames, fixturePath, fixturesDir, type FixtureName } from '../fixtures/index.ts';
import { compileWithJco } from '../oracle/jco.ts';
import { webgpuPlugin } from '../../src/plugins/webgpu/index.ts';

// --- the two runtimes ------------------------------------------------------------------------

type Runtime = 'wasmhost' | 'jco';

/** What both runtimes answer for a compiled component: wasmhost's CompiledComponent, jco's OracleComponent. */
interface Compiled {
  readonly requiredImports: ReadonlyMap<string, readonly string[]>;
  instantiate(imports: ImportObject): Promise<Instance>;
}

/**
 * Components derived from fixtures, for what jco cannot run as is. Each is run by both runtimes
 * (the same bytes), except `hello-p1 wrapped`, which jco runs in place of the fixture file.
 */
const DERIVED = {
  /** encodings with every `latin1+utf16` option made `utf16`: its utf8 and utf16 exports are unchanged. */
  'encodings-utf16': () => withoutLatin1('encodings', 'utf16'),
  /** composed with its `latin1+utf16` options made `utf8` (made `utf16`, jco panics: "not implemented: utf16 copier"). */
  'composed-utf8': () => withoutLatin1('composed', 'utf8'),
  /** The component wasmhost makes of the hello-p1 core module (preview1 adapter, proc_exit rerouted). */
  'hello-p1 wrapped': async () => wrapPreview1(await readFile(fixturePath('hello-p1')), 'hello-p1'),
} satisfies Record<string, () => Promise<Uint8Array>>;

type ComponentKey = FixtureName | keyof typeof DERIVED;

async function withoutLatin1(name: 'encodings' | 'composed', encoding: 'utf8' | 'utf16'): Promise<Uint8Array> {
  const wat = await readFile(join(fixturesDir, name, `${name}.component.wat`), 'utf8');
  const copy = wat.replaceAll('string-encoding=latin1+utf16', `string-encoding=${encoding}`);
  assert.notEqual(copy, wat, `${name} has no latin1+utf16 option left to replace`);
  return jcoParse(copy);
}

const engine = new Engine({ cacheDir: false });
const compiled = new Map<string, Promise<Compiled>>();

/** A component compiled by one runtime, once for the whole file. */
function compile(runtime: Runtime, key: ComponentKey): Promise<Compiled> {
  const id = `${runtime} ${key}`;
  let c = compiled.get(id);
  if (!c) {
    c = (async () => {
      const input = key in DERIVED ? await DERIVED[key as keyof typeof DERIVED]() : fixturePath(key);
      return runtime === 'wasmhost' ? engine.compile(input) : compileWithJco(input);
    })();
    compiled.set(id, c);
  }
  return c;
}

/** One runtime as a scenario sees it: fresh instances, WASI contexts disposed at the end. */
class Side {
  readonly runtime: Runtime;
  /** Components this side instantiated (their import requirements are compared afterwards). */
  readonly used = new Map<ComponentKey, Compiled>();
  readonly #contexts: WasiContext[] = [];

  constructor(runtime: Runtime) {
    this.runtime = runtime;
  }

  async instantiate(key: ComponentKey, imports: ImportObject): Promise<Instance> {
    const c = await compile(this.runtime, key);
    this.used.set(key, c);
    return c.instantiate(imports);
  }

  /** WASI imports over a new context (captured stdout and stderr unless `options` say otherwise). */
  wasi(options: WasiOptions = {}): { ctx: WasiContext; imports: ImportObject } {
    const ctx = new WasiContext({ stdout: 'capture', stderr: 'capture', ...options });
    this.#contexts.push(ctx);
    return { ctx, imports: createWasiImports(ctx) };
  }

  dispose(): void {
    for (const ctx of this.#contexts.splice(0)) ctx.dispose();
  }
}

// --- outcomes ----------------------------------------------------------------------------------

/** How a failure looks, comparable across runtimes. */
interface Failure {
  class: string;
  message: string;
  trap: boolean;
  payload?: unknown;
  exitCode?: number;
}

type Outcome = { value: unknown } | { error: Failure };
type Outcomes = Record<string, unknown>;

function failure(err: unknown): Failure {
  if (!(err instanceof Error)) return { class: typeof err, message: String(err), trap: false, payload: err };
  const f: Failure = { class: err.constructor.name, message: err.message, trap: err instanceof TrapError };
  if ('payload' in err) f.payload = err.payload;
  if (err instanceof ExitError) f.exitCode = err.exitCode;
  return f;
}

async function settle(run: () => unknown): Promise<Outcome> {
  try {
    return { value: await run() };
  } catch (err) {
    return { error: failure(err) };
  }
}

const call = (instance: Instance, target: string, ...args: unknown[]) => settle(() => instance.call(target, ...args));
/** An outcome without its error message, where each runtime words the same refusal its own way. */
const shape = (o: Outcome): Outcome => ('value' in o ? o : ({ error: { class: o.error.class, trap: o.error.trap } } as Outcome));
const ok = (value: unknown): Outcome => ({ value });
const trapped = (message: string): Outcome => ({ error: { class: 'TrapError', message: `guest trapped: ${message}`, trap: true } });
const exited = (code: number): Outcome => ({ error: { class: 'ExitError', message: `guest exited with code ${code}`, trap: false, exitCode: code } });
/** An export's `result` err: a ComponentError, its payload the WIT value (the message in wasmhost's words, see `normalizeJco`). */
const errResult = (payload: unknown): Outcome => ({
  error: {
    class: 'ComponentError',
    message: typeof payload === 'string' ? payload : `${(payload as { tag?: string }).tag} (see error.payload)`,
    trap: false,
    payload,
  },
});
const TAG = 0x80000000;

/** Asserts that an outcome is a host-side TypeError (a refused value, not a trap). */
function assertTypeError(answer: unknown): void {
  const error = (answer as { error?: Failure } | undefined)?.error;
  assert.ok(error, `expected a TypeError, got ${JSON.stringify(answer, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))}`);
  assert.deepStrictEqual([error.class, error.trap], ['TypeError', false], error.message);
}

/** An exported interface of an instance (any version) as an import value for another instance. */
function exported(instance: Instance, iface: string): Record<string, unknown> {
  const key = Object.keys(instance.exports).find((k) => k === iface || k.startsWith(`${iface}@`));
  assert.ok(key, `no export ${iface} (exports: ${Object.keys(instance.exports).join(', ')})`);
  return instance.exports[key] as Record<string, unknown>;
}

/** An exported interface's members, callable (resource constructors return a promise on jco). */
type Api = Record<string, (...args: any[]) => any> & Record<string, new (...args: any[]) => any>;

// --- the scenario table --------------------------------------------------------------------------

interface Difference {
  wasmhost: unknown;
  jco: unknown;
  /** Which runtime is wrong and why (CanonicalABI.md decides), or why both answers are acceptable. */
  verdict: string;
}

interface Scenario {
  /** Runs the calls on fresh instances of one runtime; what each came to, by label. */
  run?: (side: Side) => Promise<Outcomes>;
  /** Asserts expected values on wasmhost's record (jco's equals it but for `differences`). */
  expect?: (o: Outcomes) => void;
  /** Labels on which the runtimes differ: each runtime's answer and the verdict. */
  differences?: Record<string, Difference>;
  /** What jco cannot run at all: checked on wasmhost alone. */
  wasmhostOnly?: {
    /** What jco says, as the skip reason. */
    reason: string;
    /** Checks that jco still refuses, as `reason` says. */
    jcoRefuses: () => Promise<void>;
    run: (side: Side) => Promise<Outcomes>;
    expect: (o: Outcomes) => void;
  };
}

// --- host fakes ----------------------------------------------------------------------------------

/** A command's exit (the code, or how it failed), stdout and stderr. */
async function command(side: Side, key: ComponentKey, options: WasiOptions, extra: ImportObject = {}) {
  const { ctx, imports } = side.wasi(options);
  const instance = await side.instantiate(key, { ...imports, ...extra });
  const exit = await settle(() => instance.run());
  return { exit, stdout: ctx.capturedStdout().toString(), stderr: ctx.capturedStderr().toString() };
}

const ran = (code: number, stdout = '', stderr = '') => ({ exit: ok(code), stdout, stderr });

/** A scratch directory holding `files` (a name ending in `/` is a directory); removed by the caller. */
function scratchDir(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'wasmhost-differential-'));
  for (const [name, content] of Object.entries(files)) {
    if (name.endsWith('/')) mkdirSync(join(root, name));
    else writeFileSync(join(root, name), content);
  }
  return root;
}

interface HttpCall {
  method?: string;
  path: string;
  headers?: [string, string][];
  body?: string | Buffer;
  trailers?: Record<string, string>;
}

/** A body as text, or its length and digest when long (keeps failure output readable). */
function bodyText(bytes: Buffer): string | { bytes: number; sha256: string } {
  if (bytes.length <= 4096) return bytes.toString('utf8');
  return { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/**
 * Calls `wasi:http/incoming-handler#handle` with a request built from `req` and records how it
 * ended and the response as Node's server would send it: status, headers, body, and whether and
 * how the body was finished (trailers) by the time `handle` returned. The body is collected from
 * the moment the response is set, as the server's exchange does (src/http/exchange.ts).
 */
async function handle(instance: Instance, req: HttpCall) {
  const chunks: Buffer[] = [];
  let response: Record<string, unknown> | undefined;
  let end: unknown = 'open';
  const outparam = new ResponseOutparam((r: OutgoingResponse | ErrorCode) => {
    if (!(r instanceof OutgoingResponse)) {
      response = { errorCode: r };
      return;
    }
    const { status, headers, sink } = r.parts();
    response = { status, headers: headers.entries().map(([n, v]) => [n, Buffer.from(v).toString('latin1')]) };
    sink.attach({
      writable: new Writable({
        write(chunk: Buffer, _encoding, done) {
          chunks.push(Buffer.from(chunk));
          done();
        },
      }),
      end: (trailers) => (end = trailers ? { trailers: trailers.toRecord() } : 'finished'),
      abort: (reason) => (end = { aborted: reason.message }),
    });
  });
  const raw = (req.headers ?? []).flat();
  const request = new IncomingRequest({
    method: req.method ?? 'GET',
    pathWithQuery: req.path,
    scheme: 'http',
    authority: 'example.test',
    headers: Fields.fromRaw(raw),
    body: () => readableBody(Readable.from(req.body === undefined ? [] : [Buffer.from(req.body)]), () => req.trailers),
  });
  const outcome = await settle(() => instance.call('wasi:http/incoming-handler#handle', request, outparam));
  return response ? { outcome, ...response, body: bodyText(Buffer.concat(chunks)), end } : { outcome, response: 'none' };
}

const returned = ok(undefined);
/** A whole response as `handle` records it. */
const answered = (status: number, contentType: string | undefined, body: unknown, end: unknown = 'finished') => ({
  outcome: returned,
  status,
  headers: contentType === undefined ? [] : [['content-type', contentType]],
  body,
  end,
});

/** `wasi:keyvalue/store` and `atomics` over Maps; `open` refuses the buckets named in `denied`. */
function keyValue(denied: string[] = []) {
  const buckets = new Map<string, Map<string, Uint8Array>>();
  class Bucket {
    readonly data: Map<string, Uint8Array>;
    constructor(data: Map<string, Uint8Array>) {
      this.data = data;
    }
    get(key: string) {
      return this.data.get(key);
    }
    set(key: string, value: Uint8Array) {
      this.data.set(key, value.slice());
    }
    delete(key: string) {
      this.data.delete(key);
    }
    exists(key: string) {
      return this.data.has(key);
    }
    listKeys() {
      return { keys: [...this.data.keys()].sort(), cursor: undefined };
    }
  }
  const store = {
    Bucket,
    open(name: string) {
      if (denied.includes(name)) throw { tag: 'access-denied' };
      let data = buckets.get(name);
      if (!data) buckets.set(name, (data = new Map()));
      return new Bucket(data);
    },
  };
  const atomics = {
    increment(bucket: Bucket, key: string, delta: bigint) {
      const text = bucket.data.has(key) ? Buffer.from(bucket.data.get(key)!).toString() : '0';
      if (!/^\d+$/.test(text)) throw { tag: 'other', val: `cannot increment key "${key}": its value is not a decimal u64` };
      const next = BigInt(text) + delta;
      bucket.data.set(key, Buffer.from(String(next)));
      return next;
    },
  };
  const put = (bucket: string, key: string, value: string) => store.open(bucket).set(key, Buffer.from(value));
  return { imports: { 'wasi:keyvalue/store': store, 'wasi:keyvalue/atomics': atomics }, put };
}

/** `wasi:logging/logging` collecting "level context message" lines. */
function logging() {
  const lines: string[] = [];
  return { lines, imports: { 'wasi:logging/logging': { log: (level: string, context: string, message: string) => void lines.push(`${level} ${context} ${message}`) } } };
}

/** `wasi:blobstore` over Maps, with `wasi:io` streams from WASI's own classes (the glue checks them). */
function blobstore() {
  const containers = new Map<string, Map<string, Uint8Array>>();
  class OutgoingValue {
    readonly sink = new MemorySink();
    static newOutgoingValue() {
      return new OutgoingValue();
    }
    outgoingValueWriteBody() {
      return new OutputStream(this.sink);
    }
    static finish(_value: OutgoingValue) {}
  }
  class IncomingValue {
    readonly data: Uint8Array;
    constructor(data: Uint8Array) {
      this.data = data;
    }
    static incomingValueConsumeSync(value: IncomingValue) {
      return value.data;
    }
    static incomingValueConsumeAsync(value: IncomingValue) {
      return new InputStream(new BytesSource(value.data));
    }
    size() {
      return BigInt(this.data.length);
    }
  }
  class StreamObjectNames {
    readonly names: string[];
    constructor(names: string[]) {
      this.names = names;
    }
    readStreamObjectNames(len: bigint): [string[], boolean] {
      const page = this.names.splice(0, Number(len));
      return [page, this.names.length === 0];
    }
    skipStreamObjectNames(num: bigint): [bigint, boolean] {
      const skipped = this.names.splice(0, Number(num)).length;
      return [BigInt(skipped), this.names.length === 0];
    }
  }
  class Container {
    readonly #name: string;
    readonly #objects: Map<string, Uint8Array>;
    constructor(name: string, objects: Map<string, Uint8Array>) {
      this.#name = name;
      this.#objects = objects;
    }
    name() {
      return this.#name;
    }
    info() {
      return { name: this.#name, createdAt: 0n };
    }
    getData(name: string, start: bigint, end: bigint) {
      const data = this.#objects.get(name);
      if (!data) throw `object "${name}" does not exist`;
      if (end < start) throw `bad range ${start}..${end}`;
      return new IncomingValue(data.slice(Number(start), Number(end) + 1));
    }
    writeData(name: string, value: OutgoingValue) {
      this.#objects.set(name, new Uint8Array(value.sink.contents()));
    }
    listObjects() {
      return new StreamObjectNames([...this.#objects.keys()].sort());
    }
    deleteObject(name: string) {
      this.#objects.delete(name);
    }
    deleteObjects(names: string[]) {
      for (const n of names) this.#objects.delete(n);
    }
    hasObject(name: string) {
      return this.#objects.has(name);
    }
    objectInfo(name: string) {
      return { name, container: this.#name, createdAt: 0n, size: BigInt(this.#objects.get(name)?.length ?? 0) };
    }
    clear() {
      this.#objects.clear();
    }
  }
  const getContainer = (name: string) => {
    const objects = containers.get(name);
    if (!objects) throw `container "${name}" does not exist`;
    return new Container(name, objects);
  };
  return {
    imports: {
      'wasi:blobstore/types': { OutgoingValue, IncomingValue },
      'wasi:blobstore/container': { Container, StreamObjectNames },
      'wasi:blobstore/blobstore': {
        createContainer(name: string) {
          if (containers.has(name)) throw `container "${name}" already exists`;
          containers.set(name, new Map());
          return new Container(name, containers.get(name)!);
        },
        getContainer,
        deleteContainer: (name: string) => void containers.delete(name),
        containerExists: (name: string) => containers.has(name),
        copyObject() {
          throw 'unsupported';
        },
        moveObject() {
          throw 'unsupported';
        },
      },
    },
  };
}

/** `wasmcloud:postgres/query` and `prepared`: rows echo the parameters; errors on request. */
function postgres() {
  const batches: string[] = [];
  const prepared = new Map<string, string>();
  return {
    batches,
    imports: {
      'wasmcloud:postgres/query': {
        query(sql: string, params: unknown[]) {
          if (sql === 'bad') throw { tag: 'invalid-query', val: 'syntax error at or near "bad"' };
          return [params.map((value, i) => ({ columnName: `c${i}`, value })), []];
        },
        queryBatch(sql: string) {
          if (sql.includes('fail')) throw { tag: 'unexpected', val: 'batch failed' };
          batches.push(sql);
        },
      },
      'wasmcloud:postgres/prepared': {
        prepare(sql: string) {
          if (sql === 'bad') throw { tag: 'unexpected', val: 'cannot prepare "bad"' };
          const token = `stmt-${prepared.size + 1}`;
          prepared.set(token, sql);
          return token;
        },
        exec(token: string, params: { tag: string }[]) {
          if (!prepared.has(token)) throw { tag: 'unknown-prepared-query' };
          if (params.some((p) => p.tag === 'null')) throw { tag: 'query-error', val: { tag: 'invalid-params', val: 'null is not allowed' } };
          return BigInt(params.length);
        },
      },
    },
  };
}

/** `wasmcloud:messaging/consumer`: publishes recorded; `request` answers `answer:<body>`, or fails for subject `down`. */
function messaging() {
  const published: unknown[] = [];
  const requests: unknown[] = [];
  return {
    published,
    requests,
    imports: {
      'wasmcloud:messaging/consumer': {
        publish(msg: { subject: string; body: Uint8Array; replyTo?: string }) {
          published.push({ subject: msg.subject, body: Buffer.from(msg.body).toString(), replyTo: msg.replyTo });
        },
        request(subject: string, body: Uint8Array, timeoutMs: number) {
          requests.push([subject, Buffer.from(body).toString(), timeoutMs]);
          if (subject === 'down') throw 'no responders';
          return { subject, body: Buffer.from(`answer:${Buffer.from(body)}`), replyTo: undefined };
        },
      },
    },
  };
}

/**
 * `wasi:http/outgoing-handler`: `denied.test` is refused with `HTTP-request-denied`; anything else
 * answers 418 `text/plain` with what it was asked. Records each request it sees.
 */
function outgoingHandler() {
  const seen: unknown[] = [];
  const handler = {
    handle(request: OutgoingRequest, options: RequestOptions | undefined) {
      const { method, scheme, authority, pathWithQuery } = request.parts();
      seen.push({ method: methodName(method), scheme, authority, pathWithQuery, firstByteTimeout: options?.firstByteTimeout() });
      if (authority === 'denied.test') throw { tag: 'HTTP-request-denied' } satisfies ErrorCode;
      const text = `${methodName(method)} ${authority}${pathWithQuery}`;
      const body = readableBody(Readable.from([Buffer.from(text)]), () => undefined);
      return new FutureIncomingResponse(Promise.resolve(new IncomingResponse(418, Fields.fromRaw(['content-type', 'text/plain']), body)));
    },
  };
  return { seen, imports: { 'wasi:http/outgoing-handler': handler } };
}

/** A host thing for the abi fixture: every member its world imports, recording what it is given. */
function abiHost() {
  const calls: unknown[][] = [];
  const disposed: number[] = [];
  class Thing {
    readonly n: number;
    constructor(n: number) {
      this.n = n;
    }
    get() {
      return this.n;
    }
    [Symbol.dispose]() {
      disposed.push(this.n);
    }
  }
  const record = (name: string) => (...args: unknown[]) => void calls.push([name, ...args]);
  const mixed = [{ tag: 'nothing' }, { tag: 'text', val: 'héllo ✓' }, { tag: 'pair', val: [65535, 0.25] }, { tag: 'wide', val: 2n ** 64n - 1n }];
  const host = {
    Thing,
    take: record('take'),
    takeInts: record('takeInts'),
    takeText: record('takeText'),
    log: record('log'),
    sum: (l: Uint32Array) => l.reduce((a, b) => a + b, 0),
    giveMixed: (which: number) => mixed[which],
    giveChar: () => '😀',
    giveF32: () => -0.25,
    giveS8: () => -128,
    giveU64: () => 2n ** 64n - 1n,
    giveColor: () => 'blue-ish',
    giveFew: () => ({ read: true, write: false, canExec: true }),
    tryIt: (failing: boolean) => {
      if (failing) throw 'green';
      return 'fine';
    },
    tryUnit: (failing: boolean) => {
      if (failing) throw undefined;
    },
    reflectScalars: (x: unknown) => x,
    reflectLists: (x: unknown) => x,
    reflectSums: (x: unknown) => x,
    reflectComposite: (x: unknown) => x,
  };
  return { imports: { 'test:abi/host': host }, calls, disposed, Thing };
}

/** Runs `node` on a script that transpiles `name` with jco and prints how that ended (a jco panic poisons its transpiler for the rest of a process). */
async function jcoInChildProcess(name: FixtureName): Promise<{ stdout: string; stderr: string }> {
  const oracle = new URL('../oracle/jco.ts', import.meta.url).href;
  const script = `const { compileWithJco } = await import(${JSON.stringify(oracle)});
try { await compileWithJco(${JSON.stringify(fixturePath(name))}); console.log('transpiled'); }
catch (e) { console.log(\`refused: \${e?.constructor?.name}: \${e?.message}\`); }`;
  const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: fixturesDir });
  return { stdout, stderr };
}

const LATIN1_PANIC = 'assertion failed: matches!(self.encoding, StringEncoding::UTF8 | StringEncoding::UTF16)';
const LATIN1_REASON =
  `jco 1.35 cannot transpile a component using string-encoding=latin1+utf16: js-component-bindgen panics ` +
  `(function_bindgen.rs: "${LATIN1_PANIC}") and transpile rejects with "RuntimeError: wasm trap: wasm \`unreachable\` instruction executed"`;

async function assertJcoPanicsOnLatin1(name: FixtureName): Promise<void> {
  const { stdout, stderr } = await jcoInChildProcess(name);
  assert.equal(stdout.trim(), 'refused: RuntimeError: wasm trap: wasm `unreachable` instruction executed');
  assert.ok(stderr.includes(LATIN1_PANIC), stderr);
}

const list = (v: unknown) => Array.from(v as Iterable<unknown>);

/** `fn` on each item in turn (calls into one instance are made one after the other). */
async function each<T>(items: readonly T[], fn: (item: T) => Promise<unknown>): Promise<unknown[]> {
  const out = [];
  for (const item of items) out.push(await fn(item));
  return out;
}

// The scenarios, one per fixture (a missing one fails tsc and the first test below).
const SCENARIOS: Record<FixtureName, Scenario> = {
  // ---- WAT components ----
  calc: {
    async run(side) {
      let pings = 0;
      const i = await side.instantiate('calc', { 'test:calc/host': { ping: () => void pings++ } });
      return {
        'add(2, 40)': await call(i, 'add', 2, 40),
        'add(4294967295, 2)': await call(i, 'add', 4294967295, 2),
        'noop()': await call(i, 'noop'),
        "echo('héllo ✓ 😀')": await call(i, 'echo', 'héllo ✓ 😀'),
        "echo('')": await call(i, 'echo', ''),
        'ping-host(3)': await call(i, 'ping-host', 3),
        pings,
      };
    },
    expect(o) {
      assert.deepStrictEqual(o, {
        'add(2, 40)': ok(42),
        'add(4294967295, 2)': ok(1),
        'noop()': ok(undefined),
        "echo('héllo ✓ 😀')": ok('héllo ✓ 😀'),
        "echo('')": ok(''),
        'ping-host(3)': ok(undefined),
        pings: 3,
      });
    },
  },

  abi: {
    // test/engine/canon.test.ts compares every ABI case; these are a representative few.
    async run(side) {
      const host = abiHost();
      const i = await side.instantiate('abi', host.imports);
      const o: Outcomes = {
        'echo-u32(4294967295)': await call(i, 'echo-u32', 4294967295),
        'echo-s64(-2^63)': await call(i, 'echo-s64', -(2n ** 63n)),
        'echo-f32(1.5)': await call(i, 'echo-f32', 1.5),
        "echo-char('😀')": await call(i, 'echo-char', '😀'),
        "echo-string('héllo ✓')": await call(i, 'echo-string', 'héllo ✓'),
        "api#echo-color('blue-ish')": await call(i, 'test:abi/api#echo-color', 'blue-ish'),
        'api#echo-few': await call(i, 'test:abi/api#echo-few', { read: true, write: false, canExec: true }),
        'api#relay-try(true)': await call(i, 'test:abi/api#relay-try', true),
        'api#relay-try(false)': await call(i, 'test:abi/api#relay-try', false),
        'thing-roundtrip(9)': await call(i, 'thing-roundtrip', 9),
      };
      o['api#relay-mixed(0..3)'] = await each([0, 1, 2, 3], (w) => call(i, 'test:abi/api#relay-mixed', w));
      o['drive()'] = await call(i, 'drive');
      o['host calls'] = host.calls.length;
      o['host calls (first, last)'] = [host.calls[0], host.calls.at(-1)];
      o['disposed'] = host.disposed;
      // Host values the JS API coerces (Explainer.md, "JS API": ToUint32, ToBigUint64, USVString, ...).
      for (const [target, arg, label] of [
        ['echo-u8', 256, 'echo-u8(256)'],
        ['echo-s8', 200, 'echo-s8(200)'],
        ['echo-u32', -0.5, 'echo-u32(-0.5)'],
        ['echo-u32', '7', "echo-u32('7')"],
        ['echo-bool', 'x', "echo-bool('x')"],
        ['echo-u64', -1n, 'echo-u64(-1n)'],
        ['echo-u64', '7', "echo-u64('7')"],
        ['echo-s64', 1.5, 'echo-s64(1.5)'],
        ['test:abi/api#echo-few', { read: 1, bogus: true }, 'api#echo-few({ read: 1, bogus: true })'],
        ['echo-u32', 1n, 'echo-u32(1n)'],
        ['echo-f32', 1n, 'echo-f32(1n)'],
        ['echo-char', '', "echo-char('')"],
        ['echo-char', 'ab', "echo-char('ab')"],
        ['echo-string', null, 'echo-string(null)'],
        ['test:abi/api#echo-color', 'purple', "api#echo-color('purple')"],
      ] as const) {
        o[label] = await call(i, target, arg);
      }
      o['host values: instance'] = i.closedReason?.constructor.name ?? 'open';
      // Guests breaking the rules, each on a fresh instance.
      for (const edge of ['bad-variant', 'bad-char', 'bad-string', 'stash', 'raw-s8']) {
        const h = abiHost();
        const e = await side.instantiate('abi', h.imports);
        const outcome = await call(e, `test:abi/edge#${edge}`, ...(edge === 'stash' ? [new h.Thing(5)] : []));
        o[`edge#${edge}`] = { outcome, instance: e.closedReason?.constructor.name ?? 'open' };
      }
      return o;
    },
    expect(o) {
      assert.deepStrictEqual(o['echo-u32(4294967295)'], ok(4294967295));
      assert.deepStrictEqual(o['echo-s64(-2^63)'], ok(-(2n ** 63n)));
      assert.deepStrictEqual(o["echo-char('😀')"], ok('😀'));
      assert.deepStrictEqual(o["echo-string('héllo ✓')"], ok('héllo ✓'));
      assert.deepStrictEqual(o["api#echo-color('blue-ish')"], ok('blue-ish'));
      assert.deepStrictEqual(o['api#relay-mixed(0..3)'], [
        ok({ tag: 'nothing' }),
        ok({ tag: 'text', val: 'héllo ✓' }),
        ok({ tag: 'pair', val: [65535, 0.25] }),
        ok({ tag: 'wide', val: 2n ** 64n - 1n }),
      ]);
      assert.deepStrictEqual(o['api#relay-try(true)'], errResult('green'));
      assert.deepStrictEqual(o['api#relay-try(false)'], ok('fine'));
      assert.deepStrictEqual(o['thing-roundtrip(9)'], ok(9));
      assert.equal(o['host calls'], 11);
      assert.deepStrictEqual(o['disposed'], [9]);
      assert.deepStrictEqual(o['edge#bad-variant'], { outcome: trapped('invalid discriminant 9 of variant'), instance: 'TrapError' });
      assert.deepStrictEqual(
        ['echo-u8(256)', 'echo-s8(200)', 'echo-u32(-0.5)', "echo-u32('7')", "echo-bool('x')", 'echo-u64(-1n)', "echo-u64('7')"].map((l) => o[l]),
        [ok(0), ok(-56), ok(0), ok(7), ok(true), ok(2n ** 64n - 1n), ok(7n)],
      );
      assert.deepStrictEqual(o['echo-s64(1.5)'], { error: { class: 'RangeError', message: 'The number 1.5 cannot be converted to a BigInt because it is not an integer', trap: false } });
      assert.deepStrictEqual(o['api#echo-few({ read: 1, bogus: true })'], ok({ read: true, write: false, canExec: false }));
      assertTypeError(o["echo-char('')"]);
      assertTypeError(o['echo-string(null)']);
      assertTypeError(o["api#echo-color('purple')"]);
      assert.equal(o['host values: instance'], 'open', 'a refused host value is not a trap');
    },
    differences: {
      'echo-u32(1n)': {
        wasmhost: { error: { class: 'TypeError', message: 'Cannot convert a BigInt value to a number', trap: false } },
        jco: { error: { class: 'TypeError', message: 'Cannot mix BigInt and other types, use explicit conversions', trap: false } },
        verdict: 'both refuse a BigInt for a u32 (ToUint32 in the JS API), in V8\'s words for two different conversions',
      },
      "echo-char('ab')": {
        wasmhost: { error: { class: 'TypeError', message: 'a char must be a one-character string holding a Unicode scalar value, got "ab"', trap: false } },
        jco: ok('a'),
        verdict: 'jco is wrong: it takes the first code point; the JS API says to "throw if the USV length is not 1"',
      },
      "echo-char('')": {
        wasmhost: { error: { class: 'TypeError', message: 'a char must be a one-character string holding a Unicode scalar value, got ""', trap: false } },
        jco: ok('\0'),
        verdict: 'jco is wrong: it lowers an empty string as U+0000; the JS API throws unless the string is one scalar value',
      },
      'echo-string(null)': {
        wasmhost: { error: { class: 'TypeError', message: 'expected a string, got object', trap: false } },
        jco: { error: { class: 'TypeError', message: 'expected a string, received [object]', trap: false } },
        verdict: 'cosmetic: both refuse with a TypeError, in their own words',
      },
      "api#echo-color('purple')": {
        wasmhost: { error: { class: 'TypeError', message: 'purple is not one of red, green, blue-ish', trap: false } },
        jco: { error: { class: 'TypeError', message: '"purple" is not one of the cases of color', trap: false } },
        verdict: 'cosmetic: both refuse with a TypeError, in their own words',
      },
      'edge#bad-variant': {
        wasmhost: { outcome: trapped('invalid discriminant 9 of variant'), instance: 'TrapError' },
        jco: { outcome: { error: { class: 'TypeError', message: 'invalid variant discriminant for Mixed', trap: false } }, instance: 'open' },
        verdict: 'jco is wrong: lift_flat_variant / load_variant `trap_if(case_index >= len(cases))`; jco throws a TypeError and the instance stays usable',
      },
      'edge#bad-char': {
        wasmhost: { outcome: trapped('invalid char code point 55296'), instance: 'TrapError' },
        jco: { outcome: { error: { class: 'TypeError', message: 'not a valid char', trap: false } }, instance: 'open' },
        verdict: 'jco is wrong: convert_i32_to_char `trap_if(0xD800 <= i <= 0xDFFF)`; jco throws a TypeError and the instance stays usable',
      },
      'edge#bad-string': {
        wasmhost: { outcome: trapped('out of bounds memory access: the guest passed 16 bytes at 4294901760, past the end of its 65536-byte memory'), instance: 'TrapError' },
        jco: { outcome: trapped('out of bounds memory access (Invalid typed array length: 16)'), instance: 'TrapError' },
        verdict: "both right (load_string_from_range `trap_if(ptr + byte_length > len(cx.opts.memory))`): both trap, each in its own words",
      },
      'edge#stash': {
        wasmhost: { outcome: trapped('borrow handles still remain at the end of the call'), instance: 'TrapError' },
        jco: { outcome: returned, instance: 'open' },
        verdict: 'jco is wrong: an export returning while a borrowed handle it received is not dropped traps (Task.return_ `trap_if(self.num_borrows > 0)`); jco lets it return',
      },
      'edge#raw-s8': {
        wasmhost: { outcome: ok(-56), instance: 'open' },
        jco: { outcome: { error: { class: 'TypeError', message: 'must be between -128 and 127', trap: false } }, instance: 'open' },
        verdict: 'jco is wrong: lift_flat_signed takes the core i32 modulo 2^8 (200 -> -56), it does not refuse it',
      },
    },
  },

  pure: {
    async run(side) {
      const i = await side.instantiate('pure', {});
      return {
        'add(1, 2)': await call(i, 'add', 1, 2),
        'next(41)': await call(i, 'next', 41n),
        'next(2^64 - 1)': await call(i, 'next', 2n ** 64n - 1n),
        'negate(true)': await call(i, 'negate', true),
        'negate(false)': await call(i, 'negate', false),
      };
    },
    expect(o) {
      assert.deepStrictEqual(o, { 'add(1, 2)': ok(3), 'next(41)': ok(42n), 'next(2^64 - 1)': ok(0n), 'negate(true)': ok(false), 'negate(false)': ok(true) });
    },
  },

  scratchpad: {
    async run(side) {
      const i = await side.instantiate('scratchpad', {});
      const o: Outcomes = {};
      o['peek(1024)'] = await call(i, 'peek', 1024);
      o['poke(1024, 7)'] = await call(i, 'poke', 1024, 7);
      o['peek(1024) after poke'] = await call(i, 'peek', 1024);
      o['pages()'] = await call(i, 'pages');
      o['grow(1)'] = await call(i, 'grow', 1);
      o['pages() after grow'] = await call(i, 'pages');
      o['peek(131068)'] = await call(i, 'peek', 131068);
      o['bump() twice'] = [await call(i, 'bump'), await call(i, 'bump')];
      o['peek(131072)'] = await call(i, 'peek', 131072);
      o['pages() after the trap'] = await call(i, 'pages');
      const fresh = await side.instantiate('scratchpad', {});
      o['fresh: peek(1024), bump()'] = [await call(fresh, 'peek', 1024), await call(fresh, 'bump')];
      o['fresh: crash()'] = await call(fresh, 'crash');
      return o;
    },
    expect(o) {
      assert.deepStrictEqual(o, {
        'peek(1024)': ok(0x5eed),
        'poke(1024, 7)': ok(undefined),
        'peek(1024) after poke': ok(7),
        'pages()': ok(1),
        'grow(1)': ok(1),
        'pages() after grow': ok(2),
        'peek(131068)': ok(0),
        'bump() twice': [ok(8), ok(9)],
        'peek(131072)': trapped('memory access out of bounds'),
        'pages() after the trap': { error: { class: 'InstanceClosedError', message: 'instance is closed: guest trapped: memory access out of bounds', trap: false } },
        'fresh: peek(1024), bump()': [ok(0x5eed), ok(8)],
        'fresh: crash()': trapped('unreachable'),
      });
    },
  },

  trap: {
    async run(side) {
      const run = await side.instantiate('trap', {});
      const recurse = await side.instantiate('trap', {});
      const raw = await side.instantiate('trap', {});
      return {
        'run()': await settle(() => run.run()),
        'recurse()': await call(recurse, 'recurse'),
        'run() after the trap': await settle(() => recurse.run()),
        'run(): the message as thrown': await rawMessage(() => raw.run()),
      };
    },
    differences: {
      'run(): the message as thrown': {
        wasmhost: 'guest trapped: unreachable',
        jco: 'guest trapped: wasm trap: wasm `unreachable` instruction executed',
        verdict: "cosmetic: jco's glue rewords V8's trap messages as wasmtime's (normalized everywhere else, see normalizeJco)",
      },
    },
    expect(o) {
      assert.deepStrictEqual(o, {
        'run(): the message as thrown': 'guest trapped: unreachable',
        'run()': trapped('unreachable'),
        'recurse()': trapped('stack overflow (call stack exhausted)'),
        'run() after the trap': {
          error: { class: 'InstanceClosedError', message: 'instance is closed: guest trapped: stack overflow (call stack exhausted)', trap: false },
        },
      });
    },
  },

  'missing-import': {
    async run(side) {
      let calls = 0;
      const refused = await settle(() => side.instantiate('missing-import', {}));
      const lacking = await settle(async () => (await side.instantiate('missing-import', { 'acme:missing/thing': {} })).call('run'));
      const i = await side.instantiate('missing-import', { 'acme:missing/thing': { call: () => void calls++ } });
      return { 'instantiate({})': refused, 'instantiate without call, then run()': lacking, 'run() with the import': await call(i, 'run'), calls };
    },
    expect(o) {
      assert.deepStrictEqual(o['run() with the import'], returned);
      assert.equal(o.calls, 1);
    },
    differences: {
      'instantiate({})': {
        wasmhost: {
          error: { class: 'MissingImportError', message: 'component imports acme:missing/thing@1.0.0, which nothing provides', trap: false },
        },
        jco: {
          error: { class: 'TypeError', message: "Cannot destructure property 'call' of 'imports.acme:missing/thing' as it is undefined.", trap: false },
        },
        verdict: 'both refuse; wasmhost checks the import object first and names the interface, jco fails destructuring it',
      },
      'instantiate without call, then run()': {
        wasmhost: {
          error: { class: 'MissingImportError', message: 'component imports acme:missing/thing@1.0.0, but the provider lacks call', trap: false },
        },
        jco: { error: { class: 'Error', message: "unexpectedly undefined instance import 'call', was 'call' available at instantiation?", trap: false } },
        verdict: 'both fail; wasmhost refuses to instantiate, jco instantiates and fails on the first call (neither is a trap)',
      },
    },
  },

  'cycle-a': {
    async run(side) {
      const refused = await settle(() => side.instantiate('cycle-a', {}));
      const i = await side.instantiate('cycle-a', { 'test:cycle/ping': { ping: () => 41 } });
      // The cycle closed through the host: a.pong -> host -> b.ping -> host -> 1.
      const b = await side.instantiate('cycle-b', { 'test:cycle/pong': { pong: () => 1 } });
      const a = await side.instantiate('cycle-a', { 'test:cycle/ping': { ping: () => b.call('test:cycle/ping#ping') } });
      return { 'instantiate({})': refused, 'pong() with ping = 41': await call(i, 'test:cycle/pong#pong'), 'pong() through cycle-b': await call(a, 'test:cycle/pong#pong') };
    },
    expect(o) {
      assert.deepStrictEqual(o['pong() with ping = 41'], ok(42));
      assert.deepStrictEqual(o['pong() through cycle-b'], ok(3));
    },
    differences: {
      'instantiate({})': {
        wasmhost: { error: { class: 'MissingImportError', message: 'component imports test:cycle/ping@1.0.0, which nothing provides', trap: false } },
        jco: { error: { class: 'TypeError', message: "Cannot destructure property 'ping' of 'imports.test:cycle/ping' as it is undefined.", trap: false } },
        verdict: 'both refuse; wasmhost names the interface',
      },
    },
  },

  'cycle-b': {
    async run(side) {
      const refused = await settle(() => side.instantiate('cycle-b', {}));
      const i = await side.instantiate('cycle-b', { 'test:cycle/pong': { pong: () => 4294967295 } });
      return { 'instantiate({})': refused, 'ping() with pong = 2^32 - 1': await call(i, 'test:cycle/ping#ping') };
    },
    expect(o) {
      assert.deepStrictEqual(o['ping() with pong = 2^32 - 1'], ok(0), 'u32 arithmetic wraps');
    },
    differences: {
      'instantiate({})': {
        wasmhost: { error: { class: 'MissingImportError', message: 'component imports test:cycle/pong@1.0.0, which nothing provides', trap: false } },
        jco: { error: { class: 'TypeError', message: "Cannot destructure property 'pong' of 'imports.test:cycle/pong' as it is undefined.", trap: false } },
        verdict: 'both refuse; wasmhost names the interface',
      },
    },
  },

  // ---- core modules ----
  'not-wasi-module': {
    wasmhostOnly: {
      reason: 'jco transpiles components only: "failed to translate component ... attempted to parse a wasm module with a component parser"',
      async jcoRefuses() {
        await assert.rejects(compileWithJco(fixturePath('not-wasi-module')), /attempted to parse a wasm module with a component parser/);
      },
      async run() {
        return { compile: await settle(() => engine.compile(fixturePath('not-wasi-module'))) };
      },
      expect(o) {
        assert.deepStrictEqual(o, {
          compile: {
            error: {
              class: 'UnsupportedModuleError',
              message: `${fixturePath('not-wasi-module')} is a core module that imports env.foo, which is not WASI preview1`,
              trap: false,
            },
          },
        });
      },
    },
  },

  'hello-p1': {
    // jco refuses the core module itself ("attempted to parse a wasm module with a component
    // parser"); it runs the component wasmhost wraps it into, wasmhost runs the fixture file.
    async run(side) {
      const key = side.runtime === 'jco' ? 'hello-p1 wrapped' : 'hello-p1';
      return { 'run()': await command(side, key, {}), 'run() with args': await command(side, key, { args: ['hello', 'x'] }) };
    },
    expect(o) {
      // proc_exit(7) keeps its code: wasmhost reroutes it past the adapter (src/engine/preview1.ts).
      assert.deepStrictEqual(o, { 'run()': ran(7, 'hello from preview1\n'), 'run() with args': ran(7, 'hello from preview1\n') });
    },
  },

  // ---- wasi:http, WAT ----
  'http-hello': {
    async run(side) {
      const i = await side.instantiate('http-hello', { ...side.wasi().imports, 'wasi:http/types': httpTypes });
      const plain = await side.instantiate('http-hello', { ...side.wasi().imports, 'wasi:http/types': httpTypes });
      return {
        'GET /': await handle(i, { path: '/' }),
        'POST /any?x=1': await handle(i, { method: 'POST', path: '/any?x=1', body: 'ignored' }),
        'handle({}, outparam)': await settle(() => plain.call('wasi:http/incoming-handler#handle', {}, new ResponseOutparam(() => {}))),
      };
    },
    expect(o) {
      assert.deepStrictEqual(o['GET /'], answered(200, 'text/plain', 'hello'));
      assert.deepStrictEqual(o['POST /any?x=1'], answered(200, 'text/plain', 'hello'));
    },
    differences: {
      'handle({}, outparam)': {
        wasmhost: { error: { class: 'TypeError', message: 'expected an instance of IncomingRequest (the class the imports give for incoming-request), got a plain object', trap: false } },
        jco: { error: { class: 'TypeError', message: 'Resource error: Not a valid "IncomingRequest" resource.', trap: false } },
        verdict: 'both refuse a value that is not an instance of the class the imports give for the resource, in their own words',
      },
    },
  },

  hostile: {
    // Only the attacks that end without limits (see test/engine/hostile-fixtures.test.ts).
    async run(side) {
      const o: Outcomes = {};
      for (const [label, target, args] of [
        ['alloc(1), alloc(65536)', 'alloc', [1, 0x10000]],
        ['hoard(100)', 'hoard', [100]],
        ['huge-string()', 'huge-string', []],
        ['huge-list()', 'huge-list', []],
        ['bad-pointer()', 'bad-pointer', []],
        ['recurse()', 'recurse', []],
        ['exit()', 'exit', []],
      ] as const) {
        const { ctx, imports } = side.wasi();
        const i = await side.instantiate('hostile', imports);
        const outcome = target === 'alloc' ? [await call(i, target, args[0]), await call(i, target, args[1])] : await call(i, target, ...args);
        o[label] = { outcome, stdout: ctx.capturedStdout().length, instance: i.closedReason?.constructor.name ?? 'open' };
      }
      return o;
    },
    expect(o) {
      assert.deepStrictEqual(o['alloc(1), alloc(65536)'], { outcome: [ok(true), ok(false)], stdout: 0, instance: 'open' });
      assert.deepStrictEqual(o['hoard(100)'], { outcome: returned, stdout: 0, instance: 'open' });
      for (const attack of ['huge-string()', 'huge-list()', 'bad-pointer()', 'recurse()']) {
        const { outcome, stdout, instance } = o[attack] as { outcome: { error?: Failure }; stdout: number; instance: string };
        assert.equal(outcome.error?.trap, true, `${attack}: ${JSON.stringify(outcome)}`);
        assert.deepStrictEqual([stdout, instance], [0, 'TrapError'], attack);
      }
      assert.deepStrictEqual(o['exit()'], { outcome: exited(1), stdout: 0, instance: 'ExitError' });
    },
    differences: {
      'huge-string()': {
        wasmhost: { outcome: trapped('a string of 3221225472 bytes is longer than the canonical ABI allows'), stdout: 0, instance: 'TrapError' },
        jco: { outcome: trapped('out of bounds memory access (Invalid typed array length: 3221225472)'), stdout: 0, instance: 'TrapError' },
        verdict:
          'both right, both trap: load_string_from_range checks `trap_if(byte_length > MAX_STRING_BYTE_LENGTH)` (2^28 - 1) before the bounds; ' +
          "wasmhost reports that check, jco's typed array fails on the bounds",
      },
    },
  },

  'wat-adder': {
    async run(side) {
      const i = await side.instantiate('wat-adder', {});
      return {
        'math#add(2, 40)': await call(i, 'test:adder/math#add', 2, 40),
        'double(21)': await call(i, 'double', 21),
        'double(2^31 + 1)': await call(i, 'double', 2 ** 31 + 1),
      };
    },
    expect(o) {
      assert.deepStrictEqual(o, { 'math#add(2, 40)': ok(42), 'double(21)': ok(42), 'double(2^31 + 1)': ok(2) });
    },
  },

  // ---- component WAT: string encodings, composition ----
  encodings: {
    // Both runtimes run the copy whose latin1+utf16 options are utf16; only utf8 and utf16 exports are called.
    async run(side) {
      const seen: string[] = [];
      const i = await side.instantiate('encodings-utf16', { 'test:enc/host': { echo: (s: string) => (seen.push(s), `<${s}>`) } });
      const o: Outcomes = {};
      for (const e of ['utf8', 'utf16']) {
        o[`text-${e}(0..4)`] = await each([0, 1, 2, 3, 4], (n) => call(i, `text-${e}`, n));
        o[`echo-${e}`] = await each(['café', '𝄞 clef', '', 'x'.repeat(70_000)], (s) => call(i, `echo-${e}`, s));
        o[`units-${e}`] = await each(['café', '20 €', '𝄞', 'ÿ', 'Ā', ''], (s) => call(i, `units-${e}`, s));
        o[`bytes-${e}('café')`] = await call(i, `bytes-${e}`, 'café');
        o[`send-${e}(0..4)`] = await each([0, 1, 2, 3, 4], (n) => call(i, `send-${e}`, n));
        o[`send-units-${e}(0..4)`] = await each([0, 1, 2, 3, 4], (n) => call(i, `send-units-${e}`, n));
        o[`relay-${e}('x€𝄞')`] = await call(i, `relay-${e}`, 'x€𝄞');
      }
      o['texts-utf16()'] = await call(i, 'texts-utf16');
      o["reverse-utf16(['a', 'é', '𝄞', ''])"] = await call(i, 'reverse-utf16', ['a', 'é', '𝄞', '']);
      o['post-returns()'] = await call(i, 'post-returns');
      o['host saw'] = seen;
      o['text-utf8(5)'] = await call(i, 'text-utf8', 5);
      return o;
    },
    expect(o) {
      const texts = ['café', '20 €', '𝄞 clef', '', 'naïve'];
      assert.deepStrictEqual(o['text-utf8(0..4)'], texts.map(ok));
      assert.deepStrictEqual(o['text-utf16(0..4)'], texts.map(ok));
      for (const e of ['utf8', 'utf16']) assert.deepStrictEqual(o[`echo-${e}`], ['café', '𝄞 clef', '', 'x'.repeat(70_000)].map(ok), e);
      assert.deepStrictEqual(o['units-utf8'], [5, 6, 4, 2, 2, 0].map(ok));
      assert.deepStrictEqual(o['units-utf16'], [4, 4, 2, 1, 1, 0].map(ok));
      assert.deepStrictEqual(o["bytes-utf16('café')"], ok(Uint8Array.from([0x63, 0, 0x61, 0, 0x66, 0, 0xe9, 0])));
      assert.deepStrictEqual(o['send-utf16(0..4)'], texts.map((t) => ok(`<${t}>`)));
      assert.deepStrictEqual(o['send-units-utf8(0..4)'], [7, 8, 11, 2, 8].map(ok));
      assert.deepStrictEqual(o['send-units-utf16(0..4)'], [6, 6, 9, 2, 7].map(ok));
      assert.deepStrictEqual(o["relay-utf16('x€𝄞')"], ok('<x€𝄞>'));
      assert.deepStrictEqual(o['texts-utf16()'], ok(texts));
      assert.deepStrictEqual(o["reverse-utf16(['a', 'é', '𝄞', ''])"], ok(['', '𝄞', 'é', 'a']));
      // Post-return ran once per call answering through memory: 16 per encoding (text, echo, bytes, send, relay), texts and reverse.
      assert.deepStrictEqual(o['post-returns()'], ok(34));
      assert.deepStrictEqual(o['text-utf8(5)'], trapped('unreachable'));
    },
    wasmhostOnly: {
      reason: LATIN1_REASON,
      jcoRefuses: () => assertJcoPanicsOnLatin1('encodings'),
      async run(side) {
        const seen: string[] = [];
        const i = await side.instantiate('encodings', { 'test:enc/host': { echo: (s: string) => (seen.push(s), `<${s}>`) } });
        const e = 'latin1-utf16';
        return {
          [`text-${e}(0..4)`]: await each([0, 1, 2, 3, 4], (n) => call(i, `text-${e}`, n)),
          [`echo-${e}`]: await each(['café', '20 €', '', 'ÿĀ'], (s) => call(i, `echo-${e}`, s)),
          [`units-${e}`]: await each(['café', '20 €', '𝄞', 'ÿ', 'Ā', ''], (s) => call(i, `units-${e}`, s)),
          [`bytes-${e}`]: await each(['café', 'éĀ'], (s) => call(i, `bytes-${e}`, s)),
          [`send-${e}(0..4)`]: await each([0, 1, 2, 3, 4], (n) => call(i, `send-${e}`, n)),
          [`send-units-${e}(0..4)`]: await each([0, 1, 2, 3, 4], (n) => call(i, `send-units-${e}`, n)),
          [`relay-${e}('naïve €')`]: await call(i, `relay-${e}`, 'naïve €'),
          [`units-list-${e}`]: await call(i, `units-list-${e}`, ['café', '€', '', '𝄞', 'ÿ']),
          [`entry-${e}(1)`]: await call(i, `entry-${e}`, 1),
          [`measure-${e}`]: await call(i, `measure-${e}`, { id: 8, text: '20 €' }),
          'host saw': seen,
        };
      },
      expect(o) {
        const texts = ['café', '20 €', '𝄞 clef', '', 'naïve'];
        const e = 'latin1-utf16';
        assert.deepStrictEqual(o[`text-${e}(0..4)`], texts.map(ok));
        assert.deepStrictEqual(o[`echo-${e}`], ['café', '20 €', '', 'ÿĀ'].map(ok));
        assert.deepStrictEqual(o[`units-${e}`], [4, TAG | 4, TAG | 2, 1, TAG | 1, 0].map((n) => ok(n >>> 0)));
        assert.deepStrictEqual(o[`bytes-${e}`], [ok(Uint8Array.from([0x63, 0x61, 0x66, 0xe9])), ok(Uint8Array.from([0xe9, 0, 0, 1]))]);
        assert.deepStrictEqual(o[`send-${e}(0..4)`], texts.map((t) => ok(`<${t}>`)));
        assert.deepStrictEqual(o[`send-units-${e}(0..4)`], [6, TAG | 6, TAG | 9, 2, 7].map((n) => ok(n >>> 0)));
        assert.deepStrictEqual(o[`relay-${e}('naïve €')`], ok('<naïve €>'));
        assert.deepStrictEqual(o[`units-list-${e}`], ok(Uint32Array.from([4, TAG | 1, 0, TAG | 2, 1])));
        assert.deepStrictEqual(o[`entry-${e}(1)`], ok({ id: 1, text: '20 €' }));
        assert.deepStrictEqual(o[`measure-${e}`], ok({ id: 8, units: (TAG | 4) >>> 0, text: '20 €' }));
        assert.deepStrictEqual(o['host saw'], [...texts, ...texts, 'naïve €'], 'send and send-units each pass text n to the host');
      },
    },
  },

  composed: {
    // Both runtimes run the copy whose latin1+utf16 lowerings and lifts are utf8; the
    // `-latin1-utf16` exports are not called on it.
    async run(side) {
      const i = await side.instantiate('composed-utf8', {});
      const o: Outcomes = {};
      o['units'] = await each(['café', '𝄞 clef', ''], (s) => call(i, 'units', s));
      o['wrap-utf8'] = await each(['café', '𝄞 clef', ''], (s) => call(i, 'wrap-utf8', s));
      o['wrap-units-utf8'] = await each(['café', '20 €', '𝄞 clef', ''], (s) => call(i, 'wrap-units-utf8', s));
      o['motto-utf8(), motto-units-utf8()'] = [await call(i, 'motto-utf8'), await call(i, 'motto-units-utf8')];
      // The sequence of the README, on one instance.
      const steps: [string, ...unknown[]][] = [
        ['cell-get', 7], ['live'], ['dropped'], ['cell-update', 5], ['live'], ['dropped'], ['hold', 1], ['hold', 2], ['hold', 3], ['live'],
        ['sum-held'], ['consume-held'], ['live'], ['dropped'], ['sum-held'], ['hold', 10], ['hold', 20], ['drop-held'], ['live'], ['dropped'],
      ];
      const answers = [];
      for (const [target, ...args] of steps) answers.push(await call(i, target, ...args));
      o['cell sequence'] = answers;
      // The host holds cells of $p1 (provider) and $p2 (spare).
      const provider = exported(i, 'test:composed/provider') as Api;
      const spare = exported(i, 'test:composed/spare') as Api;
      const mine = await new provider.Cell(40);
      const other = await new spare.Cell(1);
      o['host cell: get, set(41), peek, live'] = [await settle(() => mine.get()), await settle(() => mine.set(41)), await settle(() => provider.peek(mine)), await settle(() => provider.live())];
      o['spare cell given to provider.peek'] = await settle(() => provider.peek(other));
      o['host cell: consume, then live, dropped'] = [await settle(() => provider.consume(mine)), await settle(() => provider.live()), await settle(() => provider.dropped())];
      o['spare: live'] = await settle(() => spare.live());
      return o;
    },
    expect(o) {
      assert.deepStrictEqual(o['units'], [4, 7, 0].map(ok));
      assert.deepStrictEqual(o['wrap-utf8'], ['«café»', '«𝄞 clef»', '«»'].map(ok));
      assert.deepStrictEqual(o['wrap-units-utf8'], [9, 10, 13, 4].map(ok));
      assert.deepStrictEqual(o['motto-utf8(), motto-units-utf8()'], [ok('café € 𝄞'), ok(14)]);
      assert.deepStrictEqual(o['cell sequence'], [7, 0, 1, [10, 11], 0, 2, 1, 2, 3, 3, 6, 6, 0, 5, 0, 1, 2, 2, 0, 7].map(ok));
      assert.deepStrictEqual(o['host cell: get, set(41), peek, live'], [ok(40), ok(undefined), ok(41), ok(1)]);
      assert.deepStrictEqual(o['host cell: consume, then live, dropped'], [ok(41), ok(0), ok(8)]);
      assert.deepStrictEqual(o['spare: live'], ok(1));
    },
    differences: {
      'spare cell given to provider.peek': {
        wasmhost: { error: { class: 'TypeError', message: 'expected a cell resource of this instance, got a cell', trap: false } },
        jco: { value: 41 },
        verdict:
          "jco is wrong: resource types are generative, so $p2's cell is not a $p1 cell (lift_borrow `trap_if(h.rt is not t.rt)`); " +
          "jco does not tell them apart and answers 41, the value of the host's other cell, a $p1 one: it read the wrong resource",
      },
    },
    wasmhostOnly: {
      reason: LATIN1_REASON,
      jcoRefuses: () => assertJcoPanicsOnLatin1('composed'),
      async run(side) {
        const i = await side.instantiate('composed', {});
        return {
          'wrap-latin1-utf16': await each(['café', '20 €', '𝄞 clef', ''], (s) => call(i, 'wrap-latin1-utf16', s)),
          'wrap-units-latin1-utf16': await each(['café', 'naïve', '', '20 €', '𝄞 clef', 'Ā'], (s) => call(i, 'wrap-units-latin1-utf16', s)),
          'motto-latin1-utf16()': await call(i, 'motto-latin1-utf16'),
          'motto-units-latin1-utf16()': await call(i, 'motto-units-latin1-utf16'),
          'wrap-utf8 still': await call(i, 'wrap-utf8', 'ü'),
        };
      },
      expect(o) {
        assert.deepStrictEqual(o, {
          'wrap-latin1-utf16': ['«café»', '«20 €»', '«𝄞 clef»', '«»'].map(ok),
          'wrap-units-latin1-utf16': [6, 7, 2, TAG | 6, TAG | 9, TAG | 3].map((n) => ok(n >>> 0)),
          'motto-latin1-utf16()': ok('café € 𝄞'),
          'motto-units-latin1-utf16()': ok((TAG | 9) >>> 0),
          'wrap-utf8 still': ok('«ü»'),
        });
      },
    },
  },

  'composed-ls': {
    async run(side) {
      const root = scratchDir({ 'b.txt': 'b', 'a.txt': 'a', 'é.txt': 'e', Z: 'z', '.hidden': 'h', 'sub/': '' });
      const empty = scratchDir({});
      try {
        const { ctx, imports } = side.wasi({ preopens: [{ hostPath: root, guestPath: '/data' }, { hostPath: empty, guestPath: '/empty' }] });
        const i = await side.instantiate('composed-ls', imports);
        const first = await settle(() => i.run());
        const second = await settle(() => i.run());
        return {
          'run() twice': [first, second],
          stdout: ctx.capturedStdout().toString(),
          'empty preopen': await command(side, 'composed-ls', { preopens: [{ hostPath: empty, guestPath: '/' }] }),
          'no preopen': await command(side, 'composed-ls', {}),
        };
      } finally {
        rmSync(root, { recursive: true, force: true });
        rmSync(empty, { recursive: true, force: true });
      }
    },
    expect(o) {
      const listing = '.hidden\nZ\na.txt\nb.txt\nsub\né.txt\n';
      assert.deepStrictEqual(o, { 'run() twice': [ok(0), ok(0)], stdout: listing + listing, 'empty preopen': ran(0), 'no preopen': ran(1) });
    },
  },

  // ---- JS components ----
  'cli-app': {
    async run(side) {
      const root = scratchDir({ 'a.txt': 'alpha\n', 'sub/': '' });
      try {
        const preopens = [{ hostPath: root, guestPath: '/data' }];
        const app = (args: string[], options: WasiOptions = {}) => command(side, 'cli-app', { ...options, args: ['cli-app', ...args] });
        const o: Outcomes = {
          args: await app(['args', 'one', 'two words', '', 'ünïcode']),
          env: await app(['env'], { env: { B: '2', A: '1=one' } }),
          'getenv A': await app(['getenv', 'A'], { env: { A: 'x' } }),
          'getenv PATH': await app(['getenv', 'PATH']),
          stdin: await app(['stdin'], { stdin: 'from stdin ✓\n' }),
          'stdin 200 KB': await app(['stdin'], { stdin: Buffer.alloc(200_000, 'y') }).then((r) => ({ ...r, stdout: r.stdout.length })),
          stderr: await app(['stderr', 'to', 'stderr']),
          read: await app(['read', '/data/a.txt'], { preopens }),
          write: await app(['write', '/data/w.txt', 'written', 'by js'], { preopens }),
          ls: await app(['ls', '/data'], { preopens }),
          'read missing': await app(['read', '/data/nope.txt'], { preopens }),
          'read outside': await app(['read', '/elsewhere/x'], { preopens }),
          'write read-only': await app(['write', '/data/w.txt', 'again'], { preopens: [{ ...preopens[0], readOnly: true }] }),
          'exit 3': await app(['exit', '3']),
          'exit 0': await app(['exit', '0']),
          'exit 255': await app(['exit', '255']),
          'sleep 5': await app(['sleep', '5']),
          trap: await app(['trap']),
          'getenv (missing argument)': await app(['getenv']),
          bogus: await app(['bogus']),
          'no arguments, CLI_APP_ARGS': await app([], { env: { CLI_APP_ARGS: 'args x  y' } }),
        };
        const time = await app(['time']);
        o['time (within 5 s of the host clock)'] = { ...time, stdout: Math.abs(Number(time.stdout) - Date.now() / 1000) < 5 };
        return o;
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
    expect(o) {
      assert.deepStrictEqual(o, {
        args: ran(0, 'one\ntwo words\n\nünïcode\n'),
        env: ran(0, 'A=1=one\nB=2\n'),
        'getenv A': ran(0, 'x\n'),
        'getenv PATH': ran(0, '<unset>\n'),
        stdin: ran(0, 'from stdin ✓\n'),
        'stdin 200 KB': { ...ran(0), stdout: 200_000 },
        stderr: ran(0, '', 'to stderr\n'),
        read: ran(0, 'alpha\n'),
        write: ran(0),
        ls: ran(0, 'a.txt\nsub\nw.txt\n'),
        'read missing': ran(1, '', 'error: /data/nope.txt: no-entry\n'),
        'read outside': ran(1, '', 'error: /elsewhere/x: no preopened directory contains this path\n'),
        'write read-only': ran(1, '', 'error: /data/w.txt: not-permitted\n'),
        'exit 3': ran(3),
        'exit 0': ran(0),
        'exit 255': ran(255),
        'sleep 5': ran(0, 'slept\n'),
        trap: ran(1),
        'getenv (missing argument)': ran(2, '', 'error: getenv: missing argument\n'),
        bogus: ran(1, '', 'error: unknown command "bogus"\n'),
        'no arguments, CLI_APP_ARGS': ran(0, 'x\ny\n'),
        'time (within 5 s of the host clock)': { ...ran(0), stdout: true },
      });
    },
  },

  greeter: {
    async run(side) {
      const logged: string[] = [];
      const i = await side.instantiate('greeter', { 'test:greeter/host': { log: (m: string) => void logged.push(m) } });
      return {
        "greet('wörld')": await call(i, 'greet', 'wörld'),
        "greet('')": await call(i, 'greet', ''),
        transform: await call(i, 'transform', '{"b":1,"a":[{"d":2,"c":"ü"}],"é":null}'),
        'call-host(3)': await call(i, 'call-host', 3),
        logged,
        "transform('not json')": await call(i, 'transform', 'not json'),
        'greet after the trap': await call(i, 'greet', 'again'),
      };
    },
    expect(o) {
      assert.deepStrictEqual(o, {
        "greet('wörld')": ok('Hello, wörld!'),
        "greet('')": ok('Hello, !'),
        transform: ok('{"a":[{"c":"ü","d":2}],"b":1,"é":null}'),
        'call-host(3)': returned,
        logged: ['x', 'x', 'x'],
        "transform('not json')": trapped('unreachable'),
        'greet after the trap': { error: { class: 'InstanceClosedError', message: 'instance is closed: guest trapped: unreachable', trap: false } },
      });
    },
  },

  'msg-handler': {
    async run(side) {
      const broker = messaging();
      const i = await side.instantiate('msg-handler', broker.imports);
      const msg = (body: string, replyTo?: string) => ({ subject: 'in', body: Buffer.from(body), replyTo });
      const handleMessage = (m: unknown) => call(i, 'wasmcloud:messaging/handler#handle-message', m);
      return {
        'hi, reply-to out': await handleMessage(msg('hi ✓', 'out')),
        'hi, no reply-to': await handleMessage(msg('hi')),
        fail: await handleMessage(msg('fail', 'out')),
        'ask:svc': await handleMessage(msg('ask:svc', 'out')),
        'ask:down': await handleMessage(msg('ask:down', 'out')),
        published: broker.published,
        requests: broker.requests,
      };
    },
    expect(o) {
      assert.deepStrictEqual(o, {
        'hi, reply-to out': returned,
        'hi, no reply-to': returned,
        fail: errResult('handler refused: fail'),
        'ask:svc': returned,
        'ask:down': errResult('request to down failed: no responders'),
        published: [
          { subject: 'out', body: 'reply:hi ✓', replyTo: undefined },
          { subject: 'out', body: 'answer:ask:svc', replyTo: undefined },
        ],
        requests: [
          ['svc', 'ask:svc', 5000],
          ['down', 'ask:down', 5000],
        ],
      });
    },
  },

  'chain-callee': {
    async run(side) {
      const i = await side.instantiate('chain-callee', side.wasi({ env: { NAME: 'c' } }).imports);
      const store = exported(i, 'test:chain/store') as Api;
      const c = await new store.Counter(5);
      const opened = await store.open(1);
      return {
        'new Counter(5): incr(2), get()': [await settle(() => c.incr(2)), await settle(() => c.get())],
        'open(1): incr(1), incr(4294967295)': [await settle(() => opened.incr(1)), await settle(() => opened.incr(4294967295))],
        'whoami()': await settle(() => store.whoami()),
        'the counters are their class': [c instanceof store.Counter, opened instanceof store.Counter],
      };
    },
    expect(o) {
      assert.deepStrictEqual(o, {
        'new Counter(5): incr(2), get()': [ok(7), ok(7)],
        'open(1): incr(1), incr(4294967295)': [ok(2), ok(1)],
        'whoami()': ok('callee:c'),
        'the counters are their class': [true, true],
      });
    },
  },

  'chain-middle': {
    async run(side) {
      const callee = await side.instantiate('chain-callee', side.wasi({ env: { NAME: 'c' } }).imports);
      const store = exported(callee, 'test:chain/store');
      const i = await side.instantiate('chain-middle', { ...side.wasi({ env: { NAME: 'm' } }).imports, 'test:chain/store': store });
      const made = (await i.call('test:chain/middle#make', 5)) as { get(): Promise<number> | number };
      const mine = await (store as Api).open(40);
      // A second callee instance: its counter is another resource type (types are generative).
      const other = await side.instantiate('chain-callee', side.wasi({ env: { NAME: 'b' } }).imports);
      const foreign = await (exported(other, 'test:chain/store') as Api).open(1000);
      const lent = await call(i, 'test:chain/middle#bump', foreign, 1);
      return {
        "bump(a counter of another callee instance, 1), then that counter's get()": { outcome: lent, after: await settle(() => foreign.get()) },
        'make(5).get()': await settle(() => made.get()),
        'bump(made, 2)': await call(i, 'test:chain/middle#bump', made, 2),
        'bump(made, 0)': await call(i, 'test:chain/middle#bump', made, 0),
        'bump(host counter, 2)': await call(i, 'test:chain/middle#bump', mine, 2),
        'whoami()': await call(i, 'test:chain/middle#whoami'),
      };
    },
    expect(o) {
      assert.deepStrictEqual(o, {
        'make(5).get()': ok(105),
        'bump(made, 2)': ok(107),
        'bump(made, 0)': ok(107),
        'bump(host counter, 2)': ok(42),
        'whoami()': ok('middle:m/callee:c'),
        "bump(a counter of another callee instance, 1), then that counter's get()": o["bump(a counter of another callee instance, 1), then that counter's get()"],
      });
    },
    differences: {
      // Resource types are generative per instance (CanonicalABI.md: lift_borrow `trap_if(h.rt is not t.rt)`):
      // both refuse a counter of callee B where the middle, linked to callee A, expects A's.
      "bump(a counter of another callee instance, 1), then that counter's get()": {
        wasmhost: {
          outcome: { error: { class: 'TypeError', message: 'expected an instance of Counter (the class the imports give for counter), got an instance of another class named Counter', trap: false } },
          after: ok(1000),
        },
        jco: { outcome: { error: { class: 'TypeError', message: 'Resource error: Not a valid "Counter" resource.', trap: false } }, after: ok(1000) },
        verdict: 'both refuse it and leave B\'s counter alone, in their own words',
      },
    },
  },

  'chain-entry': {
    async run(side) {
      const callee = await side.instantiate('chain-callee', side.wasi({ env: { NAME: 'c' } }).imports);
      const store = exported(callee, 'test:chain/store');
      const middle = await side.instantiate('chain-middle', { ...side.wasi({ env: { NAME: 'm' } }).imports, 'test:chain/store': store });
      const without = await settle(() => side.instantiate('chain-entry', { 'test:chain/store': store }));
      const i = await side.instantiate('chain-entry', { 'test:chain/store': store, 'test:chain/middle': exported(middle, 'test:chain/middle') });
      return {
        'go(5)': await call(i, 'go', 5),
        'counter-via-open(5)': await call(i, 'counter-via-open', 5),
        'go(0)': await call(i, 'go', 0),
        'instantiate without middle': without,
      };
    },
    expect(o) {
      assert.deepStrictEqual(o['go(5)'], ok('107,107,middle:m/callee:c'));
      assert.deepStrictEqual(o['counter-via-open(5)'], ok(10));
      assert.deepStrictEqual(o['go(0)'], ok('102,102,middle:m/callee:c'));
    },
    differences: {
      'instantiate without middle': {
        wasmhost: { error: { class: 'MissingImportError', message: 'component imports test:chain/middle@1.0.0, which nothing provides', trap: false } },
        jco: { error: { class: 'TypeError', message: "Cannot destructure property 'bump' of 'imports.test:chain/middle' as it is undefined.", trap: false } },
        verdict: 'both refuse; wasmhost names the interface',
      },
    },
  },

  'apps-ticker': {
    async run(side) {
      const o: Outcomes = {};
      for (const [label, env] of [['OFFSET=7', { OFFSET: '7' }], ['OFFSET unset', {}], ['OFFSET=abc', { OFFSET: 'abc' }]] as const) {
        const i = await side.instantiate('apps-ticker', side.wasi({ env }).imports);
        o[label] = [await call(i, 'test:apps/tick#tick', 2), await call(i, 'test:apps/tick#tick', 0)];
      }
      return o;
    },
    expect(o) {
      assert.deepStrictEqual(o, { 'OFFSET=7': [ok(27), ok(7)], 'OFFSET unset': [ok(20), ok(0)], 'OFFSET=abc': [ok(20), ok(0)] });
    },
  },

  'apps-service': {
    async run(side) {
      const o: Outcomes = {};
      const cases = [
        ['3 ticks', { TICKS: '3', INTERVAL_MS: '1' }],
        ['EXIT_CODE=3', { TICKS: '1', INTERVAL_MS: '1', EXIT_CODE: '3' }],
        ['EXIT_CODE=0', { TICKS: '0', EXIT_CODE: '0' }],
        ['TRAP_AT=2', { TICKS: '5', INTERVAL_MS: '1', TRAP_AT: '2' }],
        ['TICKS=three', { TICKS: 'three' }],
      ] as const;
      for (const [label, env] of cases) {
        const ticker = await side.instantiate('apps-ticker', side.wasi({ env: { OFFSET: '7' } }).imports);
        const log = logging();
        const r = await command(side, 'apps-service', { env }, { ...log.imports, 'test:apps/tick': exported(ticker, 'test:apps/tick') });
        o[label] = { ...r, log: log.lines };
      }
      return o;
    },
    expect(o) {
      const start = 'info service start';
      assert.deepStrictEqual(o, {
        '3 ticks': { ...ran(0), log: [start, 'info service tick 1 -> 17', 'info service tick 2 -> 27', 'info service tick 3 -> 37'] },
        'EXIT_CODE=3': { ...ran(3), log: [start, 'info service tick 1 -> 17'] },
        'EXIT_CODE=0': { ...ran(0), log: [start] },
        'TRAP_AT=2': { exit: trapped('unreachable'), stdout: '', stderr: '', log: [start, 'info service tick 1 -> 17'] },
        'TICKS=three': { ...ran(2), log: ['error service bad TICKS: "three"'] },
      });
    },
  },

  'kv-counter': {
    async run(side) {
      const o: Outcomes = {};
      for (const [label, bucket] of [['default bucket', undefined], ['bucket "locked"', 'locked'], ['bucket "b2"', 'b2']] as const) {
        const kv = keyValue(['locked']);
        kv.put('default', 'text', 'not a number');
        const log = logging();
        const config = { get: (key: string) => (key === 'bucket' ? bucket : undefined), getAll: () => (bucket ? [['bucket', bucket]] : []) };
        const i = await side.instantiate('kv-counter', { ...kv.imports, ...log.imports, 'wasi:config/store': config });
        o[label] = {
          "hit('k') x2, hit('é')": [await call(i, 'hit', 'k'), await call(i, 'hit', 'k'), await call(i, 'hit', 'é')],
          "read('k'), read('missing')": [await call(i, 'read', 'k'), await call(i, 'read', 'missing')],
          "hit('text')": await call(i, 'hit', 'text'),
          log: log.lines,
        };
      }
      return o;
    },
    expect(o) {
      assert.deepStrictEqual(o['default bucket'], {
        "hit('k') x2, hit('é')": [ok(1n), ok(2n), ok(1n)],
        "read('k'), read('missing')": [ok('2'), ok(undefined)],
        "hit('text')": errResult('increment "text": other: cannot increment key "text": its value is not a decimal u64'),
        log: ['info kv-counter hit k = 1', 'info kv-counter hit k = 2', 'info kv-counter hit é = 1'],
      });
      const denied = errResult('open "locked": access-denied');
      assert.deepStrictEqual(o['bucket "locked"'], { "hit('k') x2, hit('é')": [denied, denied, denied], "read('k'), read('missing')": [denied, denied], "hit('text')": denied, log: [] });
      assert.deepStrictEqual((o['bucket "b2"'] as Outcomes)["hit('text')"], ok(1n));
    },
  },

  'blob-roundtrip': {
    async run(side) {
      const blobs = blobstore();
      const i = await side.instantiate('blob-roundtrip', { ...side.wasi().imports, ...blobs.imports });
      const big = Uint8Array.from({ length: 10_000 }, (_, k) => (k * 31) & 0xff);
      return {
        "roundtrip('c', 'a', 'hello')": await call(i, 'roundtrip', 'c', 'a', Buffer.from('hello')),
        "roundtrip('c', 'big', 10000 bytes) equals": await call(i, 'roundtrip', 'c', 'big', big).then((r) => ('value' in r ? Buffer.compare(r.value as Uint8Array, big) === 0 : r)),
        "roundtrip('c', 'empty', '')": await call(i, 'roundtrip', 'c', 'empty', new Uint8Array(0)),
        "read-range('c', 'a', 1, 3)": await call(i, 'read-range', 'c', 'a', 1n, 3n),
        "list('c')": await call(i, 'list', 'c'),
        "list('nope')": await call(i, 'list', 'nope'),
        "read-range('c', 'zzz', 0, 0)": await call(i, 'read-range', 'c', 'zzz', 0n, 0n),
      };
    },
    expect(o) {
      assert.deepStrictEqual(o, {
        "roundtrip('c', 'a', 'hello')": ok(new Uint8Array(Buffer.from('hello'))),
        "roundtrip('c', 'big', 10000 bytes) equals": true,
        // get-data(0, 0) of an empty object: the fake hands back no bytes.
        "roundtrip('c', 'empty', '')": ok(new Uint8Array(0)),
        "read-range('c', 'a', 1, 3)": ok(new Uint8Array(Buffer.from('ell'))),
        "list('c')": ok(['a', 'big', 'empty']),
        "list('nope')": errResult('get-container "nope": container "nope" does not exist'),
        "read-range('c', 'zzz', 0, 0)": errResult('get-data "zzz": object "zzz" does not exist'),
      });
    },
  },

  'gpu-compute': {
    async run(side) {
      // The plugin's classes, with a GPU that has no adapter (synchronous, as jco's glue needs):
      // the guest's own error path, on both runtimes.
      const plugin = webgpuPlugin({ gpu: {} });
      const workload = { id: 'w', namespace: 'd', name: 'w', annotations: {}, interfaces: [], logger: pino({ level: 'silent' }) };
      const state = await plugin.onWorkloadBind!(workload);
      const impl = (await plugin.onComponentBind!({ workload, name: 'c', config: {}, environment: {}, allowedHosts: [], interfaces: [], imports: [], exports: [], logger: workload.logger }, state)) as Record<string, Record<string, unknown>>;
      const webgpu = impl['wasi:webgpu/webgpu@0.0.1'];
      const Gpu = webgpu.Gpu as new (...a: unknown[]) => object;
      class NoAdapterGpu extends Gpu {
        requestAdapter() {
          return undefined;
        }
      }
      const i = await side.instantiate('gpu-compute', {
        ...side.wasi().imports,
        'wasi:webgpu/webgpu': { ...webgpu, Gpu: NoAdapterGpu, getGpu: () => new NoAdapterGpu(undefined, undefined) },
        'wasi:graphics-context/graphics-context': impl['wasi:graphics-context/graphics-context@0.0.1'],
      });
      return { 'adapter()': await call(i, 'adapter'), 'double([1])': await call(i, 'double', new Float32Array([1])) };
    },
    expect(o) {
      assert.deepStrictEqual(o, { 'adapter()': errResult('request-adapter: no adapter'), 'double([1])': errResult('request-adapter: no adapter') });
    },
  },

  'pg-client': {
    async run(side) {
      const pg = postgres();
      const i = await side.instantiate('pg-client', pg.imports);
      return {
        'query(select, every kind of pg-value)': await call(i, 'query', 'select', PG_VALUES),
        'query(bad)': await call(i, 'query', 'bad', []),
        'query-batch(ok), query-batch(fail)': [await call(i, 'query-batch', 'create table t()'), await call(i, 'query-batch', 'fail')],
        'prepare(insert), prepare(bad)': [await call(i, 'prepare', 'insert'), await call(i, 'prepare', 'bad')],
        'exec(stmt-1, 2 params), exec(nope)': [await call(i, 'exec', 'stmt-1', PG_VALUES.slice(1, 3)), await call(i, 'exec', 'nope', [])],
        'prepare-and-exec(ok)': await call(i, 'prepare-and-exec', 'insert', [PG_VALUES.slice(1, 2), [], PG_VALUES.slice(1, 4)]),
        'prepare-and-exec(null param)': await call(i, 'prepare-and-exec', 'insert', [[], [{ tag: 'null' }]]),
        'prepare-and-exec(bad)': await call(i, 'prepare-and-exec', 'bad', [[]]),
        batches: pg.batches,
        'query(bad): the message as thrown': await rawMessage(() => i.call('query', 'bad', [])),
      };
    },
    differences: {
      'query(bad): the message as thrown': {
        wasmhost: 'invalid-query (see error.payload)',
        jco: '[object Object] (see error.payload)',
        verdict: "cosmetic: an export's err whose payload is not a string; wasmhost's ComponentError names the variant's tag (src/engine/canon/group.ts), jco's prints String(payload) (normalized everywhere else, see normalizeJco)",
      },
    },
    expect(o) {
      assert.deepStrictEqual(o['query(select, every kind of pg-value)'], ok([PG_VALUES.map((value, i) => ({ columnName: `c${i}`, value })), []]));
      assert.deepStrictEqual(o['query(bad)'], errResult({ tag: 'invalid-query', val: 'syntax error at or near "bad"' }));
      assert.deepStrictEqual(o['query-batch(ok), query-batch(fail)'], [returned, errResult({ tag: 'unexpected', val: 'batch failed' })]);
      assert.deepStrictEqual(o['prepare(insert), prepare(bad)'], [ok('stmt-1'), errResult({ tag: 'unexpected', val: 'cannot prepare "bad"' })]);
      assert.deepStrictEqual(o['exec(stmt-1, 2 params), exec(nope)'], [ok(2n), errResult({ tag: 'unknown-prepared-query' })]);
      assert.deepStrictEqual(o['prepare-and-exec(ok)'], ok(BigUint64Array.from([1n, 0n, 3n])));
      assert.deepStrictEqual(o['prepare-and-exec(null param)'], errResult('exec #1: query-error: invalid-params: null is not allowed'));
      assert.deepStrictEqual(o['prepare-and-exec(bad)'], errResult('prepare: unexpected: cannot prepare "bad"'));
      assert.deepStrictEqual(o.batches, ['create table t()']);
    },
  },

  // ---- wasi:http, JS ----
  'http-test': {
    async run(side) {
      const out = outgoingHandler();
      const { ctx, imports } = side.wasi({ env: { GREETING: 'hi ✓' } });
      const i = await side.instantiate('http-test', { ...imports, 'wasi:http/types': httpTypes, ...out.imports });
      const o: Outcomes = {
        'GET /': await handle(i, { path: '/' }),
        'POST /echo': await handle(i, { method: 'POST', path: '/echo', headers: [['content-type', 'text/x-test']], body: 'echo ✓ '.repeat(100) }),
        'POST /echo (no content-type, empty)': await handle(i, { method: 'POST', path: '/echo' }),
        'GET /stream?chunks=3&delay=2': await handle(i, { path: '/stream?chunks=3&delay=2' }),
        'GET /big?mb=1': await handle(i, { path: '/big?mb=1' }),
        'POST /trailers': await handle(i, { method: 'POST', path: '/trailers', body: 'twelve bytes', trailers: { 'x-req': 'v1' } }),
        'GET /headers?a=1': await handle(i, { path: '/headers?a=1', headers: [['x-multi', 'one'], ['user-agent', 'test']] }),
        'GET /env?name=GREETING': await handle(i, { path: '/env?name=GREETING' }),
        'GET /env?name=NOPE': await handle(i, { path: '/env?name=NOPE' }),
        'GET /count x2': [await handle(i, { path: '/count' }), await handle(i, { path: '/count' })],
        'PUT /nope': await handle(i, { method: 'PUT', path: '/nope' }),
        'GET /no-response': await handle(i, { path: '/no-response' }),
        'GET /fetch (418)': await handle(i, { path: `/fetch?url=${encodeURIComponent('http://upstream.test/tea?x=1')}&timeout-ms=300` }),
        'GET /fetch (denied)': await handle(i, { path: `/fetch?url=${encodeURIComponent('http://denied.test/')}` }),
        'GET /fetch (no url)': await handle(i, { path: '/fetch' }),
        'outgoing requests': out.seen,
        'GET /trap': await handle(i, { path: '/trap' }),
        stderr: ctx.capturedStderr().toString(),
      };
      const again = await side.instantiate('http-test', { ...side.wasi().imports, 'wasi:http/types': httpTypes, ...out.imports });
      o['GET /trap-after-headers'] = await handle(again, { path: '/trap-after-headers' });
      const exiting = await side.instantiate('http-test', { ...side.wasi().imports, 'wasi:http/types': httpTypes, ...out.imports });
      o['GET /exit'] = await handle(exiting, { path: '/exit' });
      return o;
    },
    expect(o) {
      const headers = JSON.parse((o['GET /headers?a=1'] as { body: string }).body);
      const attempts = (tag: string) => ({ fromList: tag, set: tag, append: tag });
      assert.deepStrictEqual(headers, {
        forbidden: Object.fromEntries(['connection', 'keep-alive', 'host', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings'].map((n) => [n, attempts('forbidden')])),
        invalidName: { name: 'bad header', ...attempts('invalid-syntax') },
        invalidValue: { name: 'x-test', value: 'a\nb', ...attempts('invalid-syntax') },
        immutable: { set: 'immutable', append: 'immutable', delete: 'immutable' },
        request: { method: 'GET', pathWithQuery: '/headers?a=1', authority: 'example.test', scheme: 'HTTP', headers: { 'x-multi': ['one'], 'user-agent': ['test'] } },
      });
      assert.deepStrictEqual(o['GET /'], answered(200, 'text/plain', 'hello from js'));
      assert.deepStrictEqual(o['POST /echo'], answered(200, 'text/x-test', 'echo ✓ '.repeat(100)));
      assert.deepStrictEqual(o['POST /echo (no content-type, empty)'], answered(200, undefined, ''));
      assert.deepStrictEqual(o['GET /stream?chunks=3&delay=2'], answered(200, 'text/plain', 'chunk 0\nchunk 1\nchunk 2\n'));
      const mib = Buffer.alloc(1024 * 1024, 'x');
      assert.deepStrictEqual(o['GET /big?mb=1'], answered(200, 'application/octet-stream', bodyText(mib)));
      assert.deepStrictEqual(o['POST /trailers'], answered(200, 'text/plain', 'ok', { trailers: { 'x-body-bytes': '12', 'x-request-trailer': 'v1' } }));
      assert.deepStrictEqual(o['GET /env?name=GREETING'], answered(200, 'text/plain', 'hi ✓'));
      assert.deepStrictEqual(o['GET /env?name=NOPE'], answered(404, 'text/plain', 'no environment variable NOPE'));
      assert.deepStrictEqual(o['GET /count x2'], [answered(200, 'text/plain', '1'), answered(200, 'text/plain', '2')]);
      assert.deepStrictEqual(o['PUT /nope'], answered(404, 'text/plain', 'no route for PUT /nope'));
      assert.deepStrictEqual(o['GET /no-response'], { outcome: returned, response: 'none' });
      assert.deepStrictEqual(o['GET /fetch (418)'], answered(418, 'text/plain', 'GET upstream.test/tea?x=1'));
      assert.deepStrictEqual(o['GET /fetch (denied)'], answered(502, 'text/plain', 'HTTP-request-denied'));
      assert.deepStrictEqual(o['GET /fetch (no url)'], answered(400, 'text/plain', 'missing or bad url parameter'));
      assert.deepStrictEqual(o['outgoing requests'], [
        { method: 'GET', scheme: { tag: 'HTTP' }, authority: 'upstream.test', pathWithQuery: '/tea?x=1', firstByteTimeout: 300_000_000n },
        { method: 'GET', scheme: { tag: 'HTTP' }, authority: 'denied.test', pathWithQuery: '/', firstByteTimeout: undefined },
      ]);
      assert.deepStrictEqual(o['GET /trap'], { outcome: trapped('unreachable'), response: 'none' });
      assert.equal(o.stderr, 'http-test: /trap: trap requested\n');
      assert.deepStrictEqual((o['GET /trap-after-headers'] as { outcome: unknown }).outcome, trapped('unreachable'));
      assert.deepStrictEqual(o['GET /exit'], { outcome: exited(1), response: 'none' });
    },
  },

  'hostile-http': {
    // Only the routes that end without limits (see test/engine/hostile-fixtures.test.ts).
    async run(side) {
      const imports = () => ({ ...side.wasi().imports, 'wasi:http/types': httpTypes });
      const i = await side.instantiate('hostile-http', imports());
      const o: Outcomes = {
        'GET /ok': await handle(i, { path: '/ok' }),
        'GET /nope': await handle(i, { path: '/nope' }),
        'GET /hoard?n=5 x2': [await handle(i, { path: '/hoard?n=5' }), await handle(i, { path: '/hoard?n=5' })],
        'POST /read-forever (100000 bytes)': await handle(i, { method: 'POST', path: '/read-forever', body: Buffer.alloc(100_000, 'r') }),
      };
      o['GET /exit'] = await handle(await side.instantiate('hostile-http', imports()), { path: '/exit' });
      return o;
    },
    expect(o) {
      assert.deepStrictEqual(o, {
        'GET /ok': answered(200, 'text/plain', 'ok'),
        'GET /nope': answered(404, 'text/plain', 'no route for /nope'),
        'GET /hoard?n=5 x2': [answered(200, 'text/plain', '5'), answered(200, 'text/plain', '5')],
        'POST /read-forever (100000 bytes)': answered(200, 'text/plain', '100000'),
        'GET /exit': { outcome: exited(1), response: 'none' },
      });
    },
  },

  // ---- Rust and C components (preview1 adapter) ----
  'rust-http-hello': {
    async run(side) {
      const i = await side.instantiate('rust-http-hello', { ...side.wasi().imports, 'wasi:http/types': httpTypes });
      return {
        'GET /': await handle(i, { path: '/' }),
        'POST /any?x=1': await handle(i, { method: 'POST', path: '/any?x=1', body: 'a body it never reads' }),
        'GET / again': await handle(i, { path: '/' }),
      };
    },
    expect(o) {
      const hello = answered(200, 'text/plain', 'hello from rust\n');
      assert.deepStrictEqual(o, { 'GET /': hello, 'POST /any?x=1': hello, 'GET / again': hello });
    },
  },

  'rust-kv-counter': {
    async run(side) {
      const kv = keyValue();
      kv.put('default', 'text', 'not a number');
      const imports = (kvImports: ImportObject) => ({ ...side.wasi().imports, 'wasi:http/types': httpTypes, ...kvImports });
      const i = await side.instantiate('rust-kv-counter', imports(kv.imports));
      const paths = ['/', '/', '/home', '/home?ignored=query', '/a/b', '/%C3%A9', '/text', '/'];
      const o: Outcomes = {};
      for (const [n, path] of paths.entries()) o[`${n}: GET ${path}`] = await handle(i, { path });
      const denied = await side.instantiate('rust-kv-counter', imports(keyValue(['default']).imports));
      o['GET / (bucket denied)'] = await handle(denied, { path: '/' });
      return o;
    },
    expect(o) {
      const counted = (body: string) => answered(200, 'text/plain', body);
      assert.deepStrictEqual(o, {
        '0: GET /': counted('counter = 1\n'),
        '1: GET /': counted('counter = 2\n'),
        '2: GET /home': counted('home = 1\n'),
        '3: GET /home?ignored=query': counted('home = 2\n'),
        '4: GET /a/b': counted('a/b = 1\n'),
        '5: GET /%C3%A9': counted('%C3%A9 = 1\n'),
        '6: GET /text': answered(500, 'text/plain', 'Error::Other("cannot increment key \\"text\\": its value is not a decimal u64")\n'),
        '7: GET /': counted('counter = 3\n'),
        'GET / (bucket denied)': answered(500, 'text/plain', 'Error::AccessDenied\n'),
      });
    },
  },

  'rust-res-provider': {
    async run(side) {
      const i = await side.instantiate('rust-res-provider', side.wasi().imports);
      const counters = exported(i, 'test:res/counters') as Api;
      const opened = await counters.open(40);
      const made = await new counters.Counter(3);
      const o: Outcomes = {
        'open(40): incr(2), get(), label()': [await settle(() => opened.incr(2)), await settle(() => opened.get()), await settle(() => opened.label())],
        'new Counter(3): label()': await settle(() => made.label()),
        'live()': await settle(() => counters.live()),
        'total(opened, made), total(made, made)': [await settle(() => counters.total(opened, made)), await settle(() => counters.total(made, made))],
      };
      made[Symbol.dispose]();
      o['live() after disposing one'] = await settle(() => counters.live());
      o['get() on the disposed one (error shape)'] = shape(await settle(() => made.get()));
      o['total(opened, disposed one) (error shape)'] = shape(await settle(() => counters.total(opened, made)));
      o['live() at the end'] = await settle(() => counters.live());
      return o;
    },
    expect(o) {
      assert.deepStrictEqual(o, {
        'open(40): incr(2), get(), label()': [ok(42), ok(42), ok('counter #1 = 42')],
        'new Counter(3): label()': ok('counter #2 = 3'),
        'live()': ok(2),
        'total(opened, made), total(made, made)': [ok(45), ok(6)],
        'live() after disposing one': ok(1),
        'get() on the disposed one (error shape)': { error: { class: 'TypeError', trap: false } },
        'total(opened, disposed one) (error shape)': { error: { class: 'TypeError', trap: false } },
        'live() at the end': ok(1),
      });
    },
  },

  'rust-res-consumer': {
    async run(side) {
      const provider = await side.instantiate('rust-res-provider', side.wasi().imports);
      const counters = exported(provider, 'test:res/counters') as Api;
      // The host sits between the two: `total` passes on the borrows it is lent, and keeps them.
      const kept: unknown[] = [];
      const relay = { ...counters, total: (a: unknown, b: unknown) => (kept.push(a, b), counters.total(a, b)) };
      const i = await side.instantiate('rust-res-consumer', { ...side.wasi().imports, 'test:res/counters': relay });
      const run5 = await call(i, 'test:res/consumer#run', 5);
      const run1 = await call(i, 'test:res/consumer#run', 1);
      const asList = (r: Outcome) => ('value' in r ? ok(list(r.value)) : r);
      return {
        'run(5)': asList(run5),
        'run(1) on the same provider': asList(run1),
        'live()': await settle(() => counters.live()),
        'borrows the host was lent': kept.length,
        'a kept borrow used after the call (error shape)': shape(await settle(() => (kept[0] as { get(): unknown }).get())),
        'live() at the end': await settle(() => counters.live()),
      };
    },
    expect(o) {
      assert.deepStrictEqual(o, {
        'run(5)': ok([0, 2, 6, 8, 14, 16, 2, 8, 16, 1, 4, 3, 2, 4, 0]),
        'run(1) on the same provider': ok([0, 2, 2, 4, 6, 8, 7, 4, 12, 1, 4, 3, 2, 9, 0]),
        'live()': ok(0),
        'borrows the host was lent': 8,
        'a kept borrow used after the call (error shape)': { error: { class: 'TypeError', trap: false } },
        'live() at the end': ok(0),
      });
    },
  },

  'http-get': {
    async run(side) {
      const out = outgoingHandler();
      const get = (url?: string) => command(side, 'http-get', { args: url === undefined ? ['http-get'] : ['http-get', url] }, { 'wasi:http/types': httpTypes, ...out.imports });
      return {
        'GET upstream': await get('http://upstream.test/tea?x=1'),
        'GET denied': await get('http://denied.test/'),
        'no url': await get(),
        'outgoing requests': out.seen,
      };
    },
    expect(o) {
      assert.deepStrictEqual(o, {
        'GET upstream': ran(0, '418\nGET upstream.test/tea?x=1'),
        'GET denied': ran(1, '', 'error: HTTP-request-denied\n'),
        'no url': ran(1, '', 'error: usage: http-get <http://host[:port]/path>\n'),
        'outgoing requests': [
          { method: 'GET', scheme: { tag: 'HTTP' }, authority: 'upstream.test', pathWithQuery: '/tea?x=1', firstByteTimeout: undefined },
          { method: 'GET', scheme: { tag: 'HTTP' }, authority: 'denied.test', pathWithQuery: '/', firstByteTimeout: undefined },
        ],
      });
    },
  },
  'net-probe': {
    // The per-component network grants through the guest's own sockets calls: a granted name and
    // one that is not, then host.wasmcloud.internal on a granted loopback port, and without the grant.
    async run(side) {
      const received: string[] = [];
      const server = createServer((s) => s.setEncoding('utf8').on('data', (d: string) => received.push(d)));
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const port = (server.address() as AddressInfo).port;
      const probe = (hostLoopbackPorts: string[]) =>
        command(side, 'net-probe', { env: { LOOKUPS: '10.1.2.3,evil.example', PORT: String(port) }, network: { ipNameLookup: ['10.1.2.3'], hostLoopbackPorts } });
      try {
        const granted = await probe([String(port)]);
        for (let i = 0; i < 100 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
        const refused = await probe([]);
        return { granted, received: received.join(''), refused };
      } finally {
        server.close();
      }
    },
    expect(o) {
      // 'Y': an address; 'u': permanent-resolver-failure (the name was not granted).
      assert.deepStrictEqual(o, { granted: ran(0), received: 'Yu', refused: ran(1) });
    },
  },
  'c-cli': {
    async run(side) {
      const root = scratchDir({ 'a.txt': 'alpha\n', 'sub/': '' });
      try {
        const preopens = [{ hostPath: root, guestPath: '/data' }];
        const cli = (args: string[], options: WasiOptions = {}) => command(side, 'c-cli', { ...options, args: ['c-cli', ...args] });
        return {
          args: await cli(['args', 'one', 'two words', '', 'ünïcode']),
          env: await cli(['env'], { env: { B: '2', A: '1=one' } }),
          'getenv PATH': await cli(['getenv', 'PATH']),
          stdin: await cli(['stdin'], { stdin: 'from stdin ✓\n' }),
          'stdin 300 KB': await cli(['stdin'], { stdin: Buffer.alloc(300_000, 'x') }).then((r) => ({ ...r, stdout: r.stdout.length })),
          stderr: await cli(['stderr', 'to', 'stderr']),
          read: await cli(['read', '/data/a.txt'], { preopens }),
          write: await cli(['write', '/data/w.txt', 'written', 'by C'], { preopens }),
          ls: await cli(['ls', '/data'], { preopens }),
          'read missing': await cli(['read', '/data/nope.txt'], { preopens }),
          'ls a file': await cli(['ls', '/data/a.txt'], { preopens }),
          'read outside': await cli(['read', '/elsewhere/x'], { preopens }),
          'write read-only': await cli(['write', '/data/w.txt', 'again'], { preopens: [{ ...preopens[0], readOnly: true }] }),
          'exit 0': await cli(['exit', '0']),
          'exit 3': await cli(['exit', '3']),
          'getenv (missing argument)': await cli(['getenv']),
          bogus: await cli(['bogus']),
          'no arguments, CLI_APP_ARGS': await cli([], { env: { CLI_APP_ARGS: 'args x  y' } }),
        };
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
    expect(o) {
      assert.deepStrictEqual(o, {
        args: ran(0, 'one\ntwo words\n\nünïcode\n'),
        env: ran(0, 'A=1=one\nB=2\n'),
        'getenv PATH': ran(0, '<unset>\n'),
        stdin: ran(0, 'from stdin ✓\n'),
        'stdin 300 KB': { ...ran(0), stdout: 300_000 },
        stderr: ran(0, '', 'to stderr\n'),
        read: ran(0, 'alpha\n'),
        write: ran(0),
        ls: ran(0, 'a.txt\nsub\nw.txt\n'),
        'read missing': ran(1, '', 'error: /data/nope.txt: no-entry\n'),
        'ls a file': ran(1, '', 'error: /data/a.txt: not-directory\n'),
        'read outside': ran(1, '', 'error: /elsewhere/x: no preopened directory contains this path\n'),
        'write read-only': ran(1, '', 'error: /data/w.txt: not-permitted\n'),
        'exit 0': ran(0),
        // Every non-zero exit goes through the preview1 adapter's exit(err): code 1.
        'exit 3': ran(1),
        'getenv (missing argument)': ran(1, '', 'error: getenv: missing argument\n'),
        bogus: ran(1, '', 'error: unknown command "bogus"\n'),
        'no arguments, CLI_APP_ARGS': ran(0, 'x\ny\n'),
      });
    },
  },
};

/** pg-values of many shapes, as jco lifts them back (typed arrays for numeric lists). */
const PG_VALUES = [
  { tag: 'null' },
  { tag: 'big-int', val: -(2n ** 63n) },
  { tag: 'bool', val: true },
  { tag: 'text', val: 'héllo ✓' },
  { tag: 'double', val: [4607182418800017408n, -52, 1] },
  { tag: 'int4-array', val: Int32Array.from([-1, 0, 2147483647]) },
  { tag: 'int8-array', val: BigInt64Array.from([-1n, 2n ** 62n]) },
  { tag: 'int2-vector-array', val: [Int16Array.from([1, -2]), new Int16Array(0)] },
  { tag: 'bool-array', val: [true, false] },
  { tag: 'bytea', val: Uint8Array.from([0, 255, 128]) },
  { tag: 'varbit', val: [undefined, Uint8Array.from([0xff])] },
  { tag: 'char', val: [3, Uint8Array.from([97, 98, 99])] },
  { tag: 'date', val: { tag: 'ymd', val: [2024, 2, 29] } },
  { tag: 'date', val: { tag: 'negative-infinity' } },
  { tag: 'macaddr', val: { bytes: [1, 2, 3, 4, 5, 255] } },
  {
    tag: 'timestamp-tz',
    val: { timestamp: { date: { tag: 'ymd', val: [-44, 3, 15] }, time: { hour: 12, min: 0, sec: 59, micro: 999999 } }, offset: { tag: 'western-hemisphere-secs', val: -3600 } },
  },
  { tag: 'interval', val: { start: { tag: 'positive-infinity' }, startInclusive: false, end: { tag: 'ymd', val: [1, 1, 1] }, endInclusive: true } },
  { tag: 'circle', val: [[[1n, 2, 3], [4n, -5, -6]], [7n, 8, 9]] },
  { tag: 'pg-snapshot', val: [1n, 9n, BigInt64Array.from([3n, 5n])] },
  { tag: 'pg-lsn-array', val: BigUint64Array.from([0n, 2n ** 64n - 1n]) },
  { tag: 'ts-vector', val: [{ position: 1, weight: 'A', data: 'cat' }, { position: undefined, weight: undefined, data: '' }] },
  { tag: 'hstore', val: [['a', '1'], ['b', undefined]] },
  { tag: 'uuid', val: '00000000-0000-0000-0000-000000000000' },
];

// --- jco's own wording ---------------------------------------------------------------------------

/**
 * jco's glue rewords V8's trap messages as wasmtime's (its `CORE_TRAP_MESSAGES`, undone here; a
 * V8 stack overflow is a RangeError, which it leaves alone): jco's wording -> V8's.
 */
const JCO_TRAP_WORDING: ReadonlyMap<string, string> = new Map([
  ['wasm trap: wasm `unreachable` instruction executed', 'unreachable'],
  ['wasm trap: out of bounds memory access', 'memory access out of bounds'],
  ['wasm trap: integer overflow', 'divide result unrepresentable'],
  ['wasm trap: invalid conversion to integer', 'float unrepresentable in integer range'],
  ['wasm trap: undefined element: out of bounds table access', 'table index is out of bounds'],
  ['wasm trap: indirect call type mismatch', 'function signature mismatch'],
  ['wasm trap: call stack exhausted', 'call stack exhausted'],
]);

/**
 * Undoes the two cosmetic rewordings in jco's record before it is compared: trap messages
 * (above), and the message of a ComponentError whose payload is not a string, which wasmhost
 * names by the payload's tag (`unexpected (see error.payload)`) and jco by `String(payload)`
 * (`[object Object] (see error.payload)`). Each is pinned by a raw-message label in `differences`
 * (`trap`, `pg-client`), so a change on either side still shows.
 */
function normalizeJco<T>(value: T): T {
  if (Array.isArray(value)) return value.map(normalizeJco) as T;
  if (!value || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return value;
  const o = value as Record<string, unknown>;
  if (typeof o.class === 'string' && typeof o.message === 'string' && typeof o.trap === 'boolean') {
    let message = o.message;
    for (const [jco, v8] of JCO_TRAP_WORDING) message = message.replace(`guest trapped: ${jco}`, `guest trapped: ${v8}`);
    const tag = (o.payload as { tag?: unknown } | undefined)?.tag;
    if (o.class === 'ComponentError' && message === '[object Object] (see error.payload)' && typeof tag === 'string') message = `${tag} (see error.payload)`;
    return { ...o, message } as T;
  }
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, normalizeJco(v)])) as T;
}

/** A call's error message as thrown, not normalized (see `normalizeJco`). */
async function rawMessage(run: () => unknown): Promise<string> {
  try {
    await run();
    return '(no error)';
  } catch (err) {
    return (err as Error).message;
  }
}

// --- the tests -----------------------------------------------------------------------------------

test('every fixture has a scenario, and every scenario a fixture', () => {
  assert.deepStrictEqual(Object.keys(SCENARIOS).sort(), [...fixtureNames].sort());
});

/** Runs a scenario on both runtimes and compares the records, then the imports each runtime asked for. */
async function differential(scenario: Scenario): Promise<void> {
  const sides = { wasmhost: new Side('wasmhost'), jco: new Side('jco') };
  const records = {} as Record<Runtime, Outcomes>;
  for (const runtime of ['wasmhost', 'jco'] as const) {
    try {
      records[runtime] = await scenario.run!(sides[runtime]);
    } finally {
      sides[runtime].dispose();
    }
  }
  const known = scenario.differences ?? {};
  const common = (o: Outcomes) => Object.fromEntries(Object.entries(o).filter(([label]) => !(label in known)));
  assert.deepStrictEqual(common(records.wasmhost), normalizeJco(common(records.jco)), 'wasmhost (actual) and jco (expected) disagree');
  for (const [label, d] of Object.entries(known)) {
    assert.deepStrictEqual(records.wasmhost[label], d.wasmhost, `${label}: wasmhost's answer (${d.verdict})`);
    assert.deepStrictEqual(records.jco[label], d.jco, `${label}: jco's answer (${d.verdict})`);
  }
  scenario.expect?.(records.wasmhost);
  for (const [key, w] of sides.wasmhost.used) {
    const j = sides.jco.used.get(key);
    if (!j) continue;
    for (const [iface, members] of w.requiredImports) {
      const jcoMembers: readonly string[] = j.requiredImports.get(iface) ?? [];
      assert.deepStrictEqual(members.filter((m) => !jcoMembers.includes(m)), [], `${key}: wasmhost asks ${iface} for members jco's glue does not take`);
    }
    for (const [iface, members] of j.requiredImports) {
      const extra = members.filter((m) => !(w.requiredImports.get(iface) ?? []).includes(m));
      assert.ok(extra.every((m) => /^[A-Z]/.test(m)), `${key}: jco's glue takes ${iface} ${extra.join(', ')}, which wasmhost does not ask for`);
    }
  }
}

for (const name of fixtureNames) {
  const scenario = SCENARIOS[name];
  test(name, { timeout: 180_000 }, async (t) => {
    if (scenario.run) await t.test('wasmhost and jco agree', () => differential(scenario));
    const only = scenario.wasmhostOnly;
    if (only) {
      await t.test('wasmhost alone: what jco cannot run', async () => {
        const side = new Side('wasmhost');
        try {
          only.expect(await only.run(side));
        } finally {
          side.dispose();
        }
      });
      await t.test('jco still refuses it, as the skip reason says', () => only.jcoRefuses());
      await t.test('the same on jco', { skip: only.reason }, () => {});
    }
  });
}
