import { keyHash, RowCache } from './row-cache';

test('a cache that knows every row answers absent for rows it never saw, and loads rows it let go', () => {
  const cache = new RowCache(2);
  expect(cache.get('a')).toBeUndefined(); // unknown: to be loaded
  cache.knowsEveryRow();
  expect(cache.get('a')).toBeNull(); // the views were empty and nothing wrote it
  cache.stage('a', { n: 1 }, 1);
  cache.stage('b', { n: 2 }, 1);
  cache.stage('c', { n: 3 }, 1);
  cache.committed(1, ['a', 'b', 'c']); // the LRU keeps two of them
  const kept = ['a', 'b', 'c'].filter((k) => cache.get(k) !== undefined);
  expect(kept).toHaveLength(2);
  // the evicted one exists: it has to be loaded, not taken for absent
  expect(['a', 'b', 'c'].map((k) => cache.get(k)).filter((v) => v === undefined)).toHaveLength(1);
  cache.stage('b', null, 2);
  cache.committed(2, ['b']);
  expect(cache.get('b')).toBeNull();
  expect(cache.get('z')).toBeNull();
});

test('it stops knowing every row after clear() and past its limit', () => {
  const cleared = new RowCache(10);
  cleared.knowsEveryRow();
  cleared.clear(); // a failed batch may have staged rows that never landed
  expect(cleared.get('a')).toBeUndefined();

  const small = new RowCache(10, 3);
  small.knowsEveryRow();
  for (const k of ['a', 'b', 'c']) small.stage(k, { k }, 1);
  expect(small.get('x')).toBeNull();
  small.stage('d', { k: 'd' }, 1); // a fourth key: it no longer keeps track
  expect(small.get('x')).toBeUndefined();
});

test('a key sharing a written row’s hash is loaded, not taken for absent; a deleted row’s hash stays', () => {
  const seen = new Map<number, string>();
  let pair: [string, string] | undefined;
  for (let i = 0; !pair; i++) {
    const key = `tasks:${i}`;
    const other = seen.get(keyHash(key));
    if (other !== undefined) pair = [other, key];
    else seen.set(keyHash(key), key);
  }
  const [written, sharing] = pair;
  const cache = new RowCache(1);
  cache.knowsEveryRow();
  cache.stage(written, { n: 1 }, 1);
  cache.committed(1, [written]);
  expect(cache.get(sharing)).toBeUndefined(); // may exist as far as the hashes tell: loaded

  cache.stage(written, null, 2);
  cache.committed(2, [written]);
  expect(cache.get(written)).toBeNull(); // the cache holds it as absent
  cache.set('evicts it', { n: 2 }); // an LRU of one lets it go
  expect(cache.get(written)).toBeUndefined(); // its hash stays: loaded
});
