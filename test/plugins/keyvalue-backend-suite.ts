/**
 * The behaviour every `KeyValueBackend` must have: run by keyvalue-backends.test.ts against the
 * memory and filesystem backends, and meant for the NATS and PostgreSQL ones too. Each test gets
 * a fresh backend from `open`; `scope` is the workload id the plugin would pass.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyValueError, type KeyValueBackend, type KeyValueErrorKind } from '../../src/plugins/keyvalue/index.ts';

export interface BackendUnderTest {
  backend: KeyValueBackend;
  close(): Promise<void>;
}

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: Uint8Array | undefined) => (value === undefined ? undefined : new TextDecoder().decode(value));

/** Asserts that `promise` fails with a KeyValueError of `kind` whose message matches `message`. */
export async function rejectsWith(promise: Promise<unknown>, kind: KeyValueErrorKind, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof KeyValueError, `expected a KeyValueError, got ${String(err)}`);
    assert.equal(err.kind, kind);
    if (message) assert.match(err.message, message);
    return true;
  });
}

export function keyValueBackendSuite(name: string, open: () => Promise<BackendUnderTest>): void {
  const scope = 'workload-1';

  /** A fresh backend with bucket `b` open. */
  async function withBucket(body: (backend: KeyValueBackend) => Promise<void>): Promise<void> {
    const { backend, close } = await open();
    try {
      await backend.openBucket(scope, 'b');
      await body(backend);
    } finally {
      await close();
    }
  }

  test(`${name}: set, get, overwrite, exists and delete`, () =>
    withBucket(async (kv) => {
      assert.equal(await kv.get(scope, 'b', 'k'), undefined);
      assert.equal(await kv.exists(scope, 'b', 'k'), false);
      await kv.set(scope, 'b', 'k', bytes('one'));
      assert.equal(text(await kv.get(scope, 'b', 'k')), 'one');
      assert.equal(await kv.exists(scope, 'b', 'k'), true);
      await kv.set(scope, 'b', 'k', bytes('two'));
      assert.equal(text(await kv.get(scope, 'b', 'k')), 'two');
      await kv.delete(scope, 'b', 'k');
      assert.equal(await kv.get(scope, 'b', 'k'), undefined);
      assert.equal(await kv.exists(scope, 'b', 'k'), false);
      await kv.delete(scope, 'b', 'k'); // a missing key is not an error
    }));

  test(`${name}: values are binary-safe and never shared with the caller`, () =>
    withBucket(async (kv) => {
      const value = new Uint8Array([0, 255, 1, 0, 128]);
      await kv.set(scope, 'b', 'bin', value);
      value[0] = 42;
      const read = await kv.get(scope, 'b', 'bin');
      assert.deepEqual(read, new Uint8Array([0, 255, 1, 0, 128]));
      read![1] = 7;
      assert.deepEqual(await kv.get(scope, 'b', 'bin'), new Uint8Array([0, 255, 1, 0, 128]));
      await kv.set(scope, 'b', 'empty', new Uint8Array(0));
      assert.deepEqual(await kv.get(scope, 'b', 'empty'), new Uint8Array(0));
      assert.equal(await kv.exists(scope, 'b', 'empty'), true);
    }));

  test(`${name}: any non-empty key string is stored as itself`, () =>
    withBucket(async (kv) => {
      const keys = ['../escape', '/etc/passwd', 'a/b/c', '.', '..', 'nul\0byte', 'Upper', 'upper', 'ünïcode ✓ 🎉', 'sp ace', '%41', 'C:\\win'];
      for (const [i, key] of keys.entries()) await kv.set(scope, 'b', key, bytes(String(i)));
      for (const [i, key] of keys.entries()) assert.equal(text(await kv.get(scope, 'b', key)), String(i), key);
      const page = await kv.listKeys(scope, 'b', undefined, 100);
      assert.deepEqual(page.keys, [...keys].sort());
      assert.equal(page.cursor, undefined);
    }));

  test(`${name}: list-keys pages with a cursor over every key exactly once`, () =>
    withBucket(async (kv) => {
      assert.deepEqual(await kv.listKeys(scope, 'b', undefined, 2), { keys: [] });
      const keys = ['e', 'a', 'd', 'c', 'b'];
      for (const key of keys) await kv.set(scope, 'b', key, bytes(key));
      const seen: string[] = [];
      let cursor: number | undefined;
      let pages = 0;
      do {
        const page = await kv.listKeys(scope, 'b', cursor, 2);
        assert.ok(page.keys.length <= 2);
        seen.push(...page.keys);
        cursor = page.cursor;
        pages++;
      } while (cursor !== undefined);
      assert.equal(pages, 3);
      assert.deepEqual(seen, ['a', 'b', 'c', 'd', 'e']);
      // A page that ends exactly at the last key has no cursor.
      assert.deepEqual(await kv.listKeys(scope, 'b', undefined, 5), { keys: ['a', 'b', 'c', 'd', 'e'] });
    }));

  test(`${name}: increment starts a missing key at 0 and stores decimal text`, () =>
    withBucket(async (kv) => {
      assert.equal(await kv.increment(scope, 'b', 'n', 1n), 1n);
      assert.equal(await kv.increment(scope, 'b', 'n', 41n), 42n);
      assert.equal(text(await kv.get(scope, 'b', 'n')), '42');
      assert.equal(await kv.increment(scope, 'b', 'zero', 0n), 0n);
      assert.equal(text(await kv.get(scope, 'b', 'zero')), '0');
      await kv.set(scope, 'b', 'set', bytes('100'));
      assert.equal(await kv.increment(scope, 'b', 'set', 5n), 105n);
    }));

  test(`${name}: increment refuses a value that is not a counter, and overflow`, () =>
    withBucket(async (kv) => {
      await kv.set(scope, 'b', 'word', bytes('hello'));
      await rejectsWith(kv.increment(scope, 'b', 'word', 1n), 'other', /"word".*not a decimal u64/);
      assert.equal(text(await kv.get(scope, 'b', 'word')), 'hello', 'a failed increment changes nothing');
      const max = 2n ** 64n - 1n;
      assert.equal(await kv.increment(scope, 'b', 'big', max), max);
      await rejectsWith(kv.increment(scope, 'b', 'big', 1n), 'other', /exceeds u64/);
      assert.equal(text(await kv.get(scope, 'b', 'big')), max.toString());
    }));

  test(`${name}: concurrent increments of one key lose no update`, () =>
    withBucket(async (kv) => {
      const results = await Promise.all(Array.from({ length: 40 }, () => kv.increment(scope, 'b', 'hits', 1n)));
      assert.equal(await kv.increment(scope, 'b', 'hits', 0n), 40n);
      assert.deepEqual(
        results.map(Number).sort((a, b) => a - b),
        Array.from({ length: 40 }, (_, i) => i + 1),
      );
    }));

  test(`${name}: get-many, set-many and delete-many`, () =>
    withBucket(async (kv) => {
      await kv.setMany(scope, 'b', [
        ['x', bytes('1')],
        ['y', bytes('2')],
      ]);
      const values = await kv.getMany(scope, 'b', ['y', 'missing', 'x']);
      assert.deepEqual(values.map(text), ['2', undefined, '1']);
      await kv.deleteMany(scope, 'b', ['x', 'missing']);
      assert.deepEqual((await kv.getMany(scope, 'b', ['x', 'y'])).map(text), [undefined, '2']);
      assert.deepEqual(await kv.getMany(scope, 'b', []), []);
    }));

  test(`${name}: buckets are separate, and one never opened is no-such-store`, async () => {
    const { backend: kv, close } = await open();
    try {
      await kv.openBucket(scope, 'one');
      await kv.openBucket(scope, 'two');
      await kv.openBucket(scope, 'one'); // opening twice keeps the data
      await kv.set(scope, 'one', 'k', bytes('in one'));
      await kv.openBucket(scope, 'one');
      assert.equal(text(await kv.get(scope, 'one', 'k')), 'in one');
      assert.equal(await kv.get(scope, 'two', 'k'), undefined);
      await rejectsWith(kv.get(scope, 'never', 'k'), 'no-such-store', /"never"/);
      await rejectsWith(kv.set(scope, 'never', 'k', bytes('v')), 'no-such-store');
      await rejectsWith(kv.listKeys(scope, 'never', undefined, 10), 'no-such-store');
      await rejectsWith(kv.increment(scope, 'never', 'k', 1n), 'no-such-store');
    } finally {
      await close();
    }
  });

  test(`${name}: bad bucket names and keys are refused with a reason`, async () => {
    const { backend: kv, close } = await open();
    try {
      await rejectsWith(kv.openBucket(scope, ''), 'other', /invalid bucket name "": it is empty/);
      await rejectsWith(kv.openBucket(scope, 'a\nb'), 'other', /control character/);
      await rejectsWith(kv.openBucket(scope, 'x'.repeat(256)), 'other', /longer than 255/);
      await kv.openBucket(scope, 'b');
      await rejectsWith(kv.set(scope, 'b', '', bytes('v')), 'other', /invalid key "": it is empty/);
      await rejectsWith(kv.get(scope, 'b', ''), 'other', /it is empty/);
    } finally {
      await close();
    }
  });

  test(`${name}: dropScope is idempotent`, async () => {
    const { backend: kv, close } = await open();
    try {
      await kv.dropScope('never-bound');
      await kv.openBucket(scope, 'b');
      await kv.dropScope(scope);
      await kv.dropScope(scope);
    } finally {
      await close();
    }
  });
}
