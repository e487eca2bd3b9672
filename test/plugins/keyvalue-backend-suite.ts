/**
 * The behaviour every `KeyValueBackend` must have: run by keyvalue-backends.test.ts against the
 * memory and filesystem backends, and by nats-keyvalue and postgres-keyvalue against the real
 * servers. Each test gets a fresh backend from `open`; bucket names are what the plugin passes.
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
  /** A fresh backend with bucket `b` open. */
  async function withBucket(body: (backend: KeyValueBackend) => Promise<void>): Promise<void> {
    const { backend, close } = await open();
    try {
      await backend.openBucket('b');
      await body(backend);
    } finally {
      await close();
    }
  }

  test(`${name}: set, get, overwrite, exists and delete`, () =>
    withBucket(async (kv) => {
      assert.equal(await kv.get('b', 'k'), undefined);
      assert.equal(await kv.exists('b', 'k'), false);
      await kv.set('b', 'k', bytes('one'));
      assert.equal(text(await kv.get('b', 'k')), 'one');
      assert.equal(await kv.exists('b', 'k'), true);
      await kv.set('b', 'k', bytes('two'));
      assert.equal(text(await kv.get('b', 'k')), 'two');
      await kv.delete('b', 'k');
      assert.equal(await kv.get('b', 'k'), undefined);
      assert.equal(await kv.exists('b', 'k'), false);
      await kv.delete('b', 'k'); // a missing key is not an error
    }));

  test(`${name}: values are binary-safe and never shared with the caller`, () =>
    withBucket(async (kv) => {
      const value = new Uint8Array([0, 255, 1, 0, 128]);
      await kv.set('b', 'bin', value);
      value[0] = 42;
      const read = await kv.get('b', 'bin');
      assert.deepEqual(read, new Uint8Array([0, 255, 1, 0, 128]));
      read![1] = 7;
      assert.deepEqual(await kv.get('b', 'bin'), new Uint8Array([0, 255, 1, 0, 128]));
      await kv.set('b', 'empty', new Uint8Array(0));
      assert.deepEqual(await kv.get('b', 'empty'), new Uint8Array(0));
      assert.equal(await kv.exists('b', 'empty'), true);
    }));

  test(`${name}: any non-empty key string is stored as itself`, () =>
    withBucket(async (kv) => {
      const keys = ['../escape', '/etc/passwd', 'a/b/c', '.', '..', 'nul\0byte', 'Upper', 'upper', 'ünïcode ✓ 🎉', 'sp ace', '%41', 'C:\\win'];
      for (const [i, key] of keys.entries()) await kv.set('b', key, bytes(String(i)));
      for (const [i, key] of keys.entries()) assert.equal(text(await kv.get('b', key)), String(i), key);
      const page = await kv.listKeys('b', undefined, 100);
      assert.deepEqual(page.keys, [...keys].sort());
      assert.equal(page.cursor, undefined);
    }));

  test(`${name}: list-keys pages with a cursor over every key exactly once`, () =>
    withBucket(async (kv) => {
      assert.deepEqual(await kv.listKeys('b', undefined, 2), { keys: [] });
      const keys = ['e', 'a', 'd', 'c', 'b'];
      for (const key of keys) await kv.set('b', key, bytes(key));
      const seen: string[] = [];
      let cursor: number | undefined;
      let pages = 0;
      do {
        const page = await kv.listKeys('b', cursor, 2);
        assert.ok(page.keys.length <= 2);
        seen.push(...page.keys);
        cursor = page.cursor;
        pages++;
      } while (cursor !== undefined);
      assert.equal(pages, 3);
      assert.deepEqual(seen, ['a', 'b', 'c', 'd', 'e']);
      // A page that ends exactly at the last key has no cursor.
      assert.deepEqual(await kv.listKeys('b', undefined, 5), { keys: ['a', 'b', 'c', 'd', 'e'] });
    }));

  test(`${name}: increment starts a missing key at 0 and stores decimal text`, () =>
    withBucket(async (kv) => {
      assert.equal(await kv.increment('b', 'n', 1n), 1n);
      assert.equal(await kv.increment('b', 'n', 41n), 42n);
      assert.equal(text(await kv.get('b', 'n')), '42');
      assert.equal(await kv.increment('b', 'zero', 0n), 0n);
      assert.equal(text(await kv.get('b', 'zero')), '0');
      await kv.set('b', 'set', bytes('100'));
      assert.equal(await kv.increment('b', 'set', 5n), 105n);
    }));

  test(`${name}: increment refuses a value that is not a counter, and overflow`, () =>
    withBucket(async (kv) => {
      await kv.set('b', 'word', bytes('hello'));
      await rejectsWith(kv.increment('b', 'word', 1n), 'other', /"word".*not a decimal u64/);
      assert.equal(text(await kv.get('b', 'word')), 'hello', 'a failed increment changes nothing');
      const max = 2n ** 64n - 1n;
      assert.equal(await kv.increment('b', 'big', max), max);
      await rejectsWith(kv.increment('b', 'big', 1n), 'other', /exceeds u64/);
      assert.equal(text(await kv.get('b', 'big')), max.toString());
    }));

  test(`${name}: concurrent increments of one key lose no update`, () =>
    withBucket(async (kv) => {
      const results = await Promise.all(Array.from({ length: 40 }, () => kv.increment('b', 'hits', 1n)));
      assert.equal(await kv.increment('b', 'hits', 0n), 40n);
      assert.deepEqual(
        results.map(Number).sort((a, b) => a - b),
        Array.from({ length: 40 }, (_, i) => i + 1),
      );
    }));

  test(`${name}: get-many, set-many and delete-many`, () =>
    withBucket(async (kv) => {
      await kv.setMany('b', [
        ['x', bytes('1')],
        ['y', bytes('2')],
      ]);
      const values = await kv.getMany('b', ['y', 'missing', 'x']);
      assert.deepEqual(values.map(text), ['2', undefined, '1']);
      await kv.deleteMany('b', ['x', 'missing']);
      assert.deepEqual((await kv.getMany('b', ['x', 'y'])).map(text), [undefined, '2']);
      assert.deepEqual(await kv.getMany('b', []), []);
    }));

  test(`${name}: buckets are separate, and one never opened is no-such-store`, async () => {
    const { backend: kv, close } = await open();
    try {
      await kv.openBucket('one');
      await kv.openBucket('two');
      await kv.openBucket('one'); // opening twice keeps the data
      await kv.set('one', 'k', bytes('in one'));
      await kv.openBucket('one');
      assert.equal(text(await kv.get('one', 'k')), 'in one');
      assert.equal(await kv.get('two', 'k'), undefined);
      await rejectsWith(kv.get('never', 'k'), 'no-such-store', /"never"/);
      await rejectsWith(kv.set('never', 'k', bytes('v')), 'no-such-store');
      await rejectsWith(kv.listKeys('never', undefined, 10), 'no-such-store');
      await rejectsWith(kv.increment('never', 'k', 1n), 'no-such-store');
    } finally {
      await close();
    }
  });

  test(`${name}: bad bucket names and keys are refused with a reason`, async () => {
    const { backend: kv, close } = await open();
    try {
      await rejectsWith(kv.openBucket(''), 'other', /invalid bucket name "": it is empty/);
      await rejectsWith(kv.openBucket('a\nb'), 'other', /control character/);
      await rejectsWith(kv.openBucket('x'.repeat(1025)), 'other', /longer than 1024/);
      await kv.openBucket('b');
      await rejectsWith(kv.set('b', '', bytes('v')), 'other', /invalid key "": it is empty/);
      await rejectsWith(kv.get('b', ''), 'other', /it is empty/);
    } finally {
      await close();
    }
  });

  test(`${name}: dropBuckets, where the backend has it, forgets only the names under the prefix, idempotently`, async () => {
    const { backend: kv, close } = await open();
    try {
      if (!kv.dropBuckets) return; // a store meant to outlive workloads keeps everything
      await kv.dropBuckets('never/opened/');
      for (const name of ['ns/a/b', 'ns/a/c', 'ns/ab/b']) {
        await kv.openBucket(name);
        await kv.set(name, 'k', bytes(name));
      }
      await kv.dropBuckets('ns/a/');
      await kv.dropBuckets('ns/a/');
      await rejectsWith(kv.get('ns/a/b', 'k'), 'no-such-store');
      await rejectsWith(kv.get('ns/a/c', 'k'), 'no-such-store');
      assert.equal(text(await kv.get('ns/ab/b', 'k')), 'ns/ab/b');
    } finally {
      await close();
    }
  });
}
