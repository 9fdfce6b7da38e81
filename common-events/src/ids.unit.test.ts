import { deterministicId, newId, UUID_PATTERN } from './ids';

test('derived ids never change: events and commands already stored carry them', () => {
  // values computed when the ids were first derived (sha1 over namespace, NUL, name)
  expect(deterministicId('9b2f6c1e-1111-4222-8333-444455556666', 'event:projects:p1')).toBe(
    '2664756f-4971-5b14-8df9-b3dc6fd2ef20',
  );
  expect(deterministicId('k', 'ünï 😀')).toBe('3a390d2e-2f57-5608-9d5c-b2c150e9b04e');
});

test('a derived id is a version-5 UUID, different for another name', () => {
  const id = deterministicId('a', 'b');
  expect(id).toMatch(UUID_PATTERN);
  expect(id[14]).toBe('5');
  expect('89ab').toContain(id[19]);
  expect(deterministicId('a', 'c')).not.toBe(id);
});

test('a new id is a version-7 UUID carrying its time, and ids made later sort after', () => {
  const before = Date.now();
  const ids = Array.from({ length: 1000 }, () => newId());
  const after = Date.now();
  for (const id of ids) {
    expect(id).toMatch(UUID_PATTERN);
    expect(id[14]).toBe('7');
    expect('89ab').toContain(id[19]);
  }
  const ms = parseInt(ids[0]!.replace('-', '').slice(0, 12), 16);
  expect(ms).toBeGreaterThanOrEqual(before);
  expect(ms).toBeLessThanOrEqual(after);
  expect([...ids].sort()).toEqual(ids);
  expect(new Set(ids).size).toBe(ids.length);
});
