/**
 * A batch's writes go to Postgres as inlined literals (one round trip, simple-query protocol):
 * whatever the documents and outcomes hold must come back exactly, and a batch whose expected
 * checkpoint is not the one in the table must write nothing.
 */
import { newId, sqlLiteral, ViewStore, type BatchCommit, type Doc, type PendingWrite } from '../src';
import { openTestEnv, type TestEnv } from '../src/testing';
import { counterProjection } from './fixtures/counter';

let env: TestEnv;
beforeAll(async () => {
  env = await openTestEnv();
});
afterAll(() => env.close());

const NASTY = [
  "it's",
  "''",
  'back\\slash \\\\ \\n \\u0041 \\x27',
  "E'\\'",
  "'; DROP TABLE checkpoints; --",
  '$1 $$ $tag$ ?',
  'the tags $j$ and $j0$ $j1 $j$j0$',
  'ends like a tag $j',
  'and like the next $j$ $j0',
  '$',
  'line\nbreak\ttab\r',
  '"double" `tick`',
  'ünïcödé 😀 \u2028',
  // what a text[] constant would take for syntax, were an element not double-quoted and escaped
  '{"a",b}',
  'NULL',
  ' padded ',
];

function writes(docs: { id: string; doc: Doc | null }[], version: number): Map<string, PendingWrite> {
  return new Map(docs.map((d) => [d.id, { table: 'counters', id: d.id, doc: d.doc, version }]));
}

async function store(): Promise<{ views: ViewStore; schema: string; durable: string }> {
  const schema = env.names.schema(`vs_${newId().slice(-8)}`);
  const views = new ViewStore(schema, counterProjection);
  await views.migrate(env.pool);
  const durable = env.names.durable('vs');
  await views.checkpoint(env.pool, durable);
  return { views, schema, durable };
}

async function commit(views: ViewStore, batch: BatchCommit, expected: number, settings = '') {
  const client = await env.pool.connect();
  try {
    if (settings) await client.query(settings);
    await client.query('BEGIN');
    const result = await views.writeBatch(client, batch, expected);
    await client.query(result.moved && result.locked === expected ? 'COMMIT' : 'ROLLBACK');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    // a session setting must not follow the connection back into the pool
    client.release(settings !== '');
  }
}

test.each([
  ['standard_conforming_strings on', ''],
  ['standard_conforming_strings off', 'SET standard_conforming_strings = off'],
])('documents and outcomes come back exactly as written (%s)', async (_name, settings) => {
  const { views, schema, durable } = await store();
  const docs = [
    ...NASTY.map((text, i) => ({
      id: `${text}#${i}`,
      doc: { text, nested: { list: [text, i, null, true], [text]: text } } as Doc,
    })),
    // an id that is, whole, what an unquoted array element reads as null
    { id: 'NULL', doc: { text: 'NULL' } as Doc },
  ];
  // every column's value comes back in its own row and column, however odd it is, null as null
  const outcomes = NASTY.map((message, i) => ({
    commandId: newId(),
    status: i % 2 === 0 ? ('rejected' as const) : ('accepted' as const),
    type: `Increment${i}`,
    entity: `projects.${NASTY[(i + 1) % NASTY.length]!}`,
    reason: i % 3 === 0 ? undefined : NASTY[(i + 2) % NASTY.length],
    message: i % 4 === 1 ? undefined : message,
    eventId: newId(),
    position: 10 + i,
  }));
  const result = await commit(
    views,
    { name: durable, position: 42, writes: writes(docs, 42), outcomes },
    0,
    settings,
  );
  expect(result).toEqual({ locked: 0, moved: true });

  const { rows } = await env.pool.query<{ id: string; doc: Doc; version: string }>(
    `SELECT id, doc, version FROM "${schema}".counters ORDER BY id`,
  );
  expect(rows.map((r) => [r.id, r.doc, Number(r.version)])).toEqual(
    [...docs].sort((a, b) => (a.id < b.id ? -1 : 1)).map((d) => [d.id, d.doc, 42]),
  );
  const recorded = await env.pool.query(
    `SELECT command_id AS "commandId", status, type, entity, reason, message, event_id AS "eventId",
       position::int AS position
     FROM "${schema}".command_outcomes ORDER BY position`,
  );
  expect(recorded.rows).toEqual(
    outcomes.map((o) => ({ ...o, reason: o.reason ?? null, message: o.message ?? null })),
  );
  expect(await views.checkpoint(env.pool, durable)).toBe(42);

  // deletes by id, however odd the id, in a batch that also writes a row and records an outcome
  // (a batch with deletes inlines its write: every kind of step in it)
  const gone = docs.filter((_, i) => i % 2 === 0).map((d) => ({ id: d.id, doc: null }));
  const after = { ...outcomes[0]!, commandId: newId(), position: 43 };
  await commit(
    views,
    {
      name: durable,
      position: 43,
      writes: writes([...gone, { id: 'added', doc: { n: NASTY } }], 43),
      outcomes: [after],
    },
    42,
    settings,
  );
  const left = await env.pool.query<{ id: string }>(`SELECT id FROM "${schema}".counters`);
  expect(left.rows.map((r) => r.id).sort()).toEqual(
    ['added', ...docs.filter((_, i) => i % 2 === 1).map((d) => d.id)].sort(),
  );
  const added = await env.pool.query(`SELECT doc FROM "${schema}".counters WHERE id = 'added'`);
  expect(added.rows).toEqual([{ doc: { n: NASTY } }]);
  const recordedAfter = await env.pool.query(
    `SELECT message FROM "${schema}".command_outcomes WHERE command_id = $1`,
    [after.commandId],
  );
  expect(recordedAfter.rows).toEqual([{ message: after.message }]);
});

test('a batch expecting another checkpoint writes nothing, even before its rollback', async () => {
  const { views, schema, durable } = await store();
  await commit(views, { name: durable, position: 5, writes: writes([], 5), outcomes: [] }, 0);
  const client = await env.pool.connect();
  try {
    const batch: BatchCommit = {
      name: durable,
      position: 9,
      writes: writes([{ id: 'stale', doc: { n: 1 } }], 9),
      outcomes: [
        {
          commandId: newId(),
          status: 'accepted',
          type: 'Incremented',
          entity: 'projects.x',
          eventId: newId(),
          position: 9,
        },
      ],
    };
    // a zombie that last committed at 3: the checkpoint is at 5
    await client.query('BEGIN');
    expect(await views.writeBatch(client, batch, 3)).toEqual({ locked: 5, moved: false });
    const inside = await client.query(
      `SELECT (SELECT count(*) FROM "${schema}".counters) AS rows, (SELECT count(*) FROM "${schema}".command_outcomes) AS outcomes,
              (SELECT position FROM "${schema}".checkpoints WHERE name = $1) AS position`,
      [durable],
    );
    expect(inside.rows[0]).toEqual({ rows: '0', outcomes: '0', position: '5' });
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
  expect(await views.checkpoint(env.pool, durable)).toBe(5);
});

test('writeBatch outside a transaction commits in one call; a fence that fails or a statement that fails commits nothing', async () => {
  const { views, schema, durable } = await store();
  const outcome = (position: number, commandId = newId()) => ({
    commandId,
    status: 'accepted' as const,
    type: 'Incremented',
    entity: 'projects.x',
    eventId: newId(),
    position,
  });
  const rows = async () =>
    (await env.pool.query<{ id: string }>(`SELECT id FROM "${schema}".counters ORDER BY id`)).rows.map(
      (r) => r.id,
    );
  const first = {
    name: durable,
    position: 4,
    writes: writes([{ id: 'a', doc: { n: 1 } }], 4),
    outcomes: [outcome(4)],
  };
  expect(await views.writeBatch(env.pool, first, 0)).toEqual({ locked: 0, moved: true });
  expect(await rows()).toEqual(['a']);
  expect(await views.checkpoint(env.pool, durable)).toBe(4);
  // a zombie expecting 0: nothing of it lands
  const stale = { name: durable, position: 6, writes: writes([{ id: 'b', doc: { n: 2 } }], 6), outcomes: [] };
  expect(await views.writeBatch(env.pool, stale, 0)).toEqual({ locked: 4, moved: false });
  expect(await rows()).toEqual(['a']);
  // an outcome whose id is no uuid fails the statement: the checkpoint and rows stay as they were
  const broken = {
    name: durable,
    position: 7,
    writes: writes([{ id: 'c', doc: { n: 3 } }], 7),
    outcomes: [outcome(7, 'not-a-uuid')],
  };
  await expect(views.writeBatch(env.pool, broken, 4)).rejects.toThrow(/uuid/);
  expect(await rows()).toEqual(['a']);
  expect(await views.checkpoint(env.pool, durable)).toBe(4);
  // and the connections are fit for the next batch
  for (let i = 0; i < 6; i++) {
    const next = {
      name: durable,
      position: 8 + i,
      writes: writes([{ id: `d${i}`, doc: { i } }], 8 + i),
      outcomes: [],
    };
    expect(await views.writeBatch(env.pool, next, i === 0 ? 4 : 7 + i)).toEqual({
      locked: i === 0 ? 4 : 7 + i,
      moved: true,
    });
  }
  expect(await views.checkpoint(env.pool, durable)).toBe(13);
});

test('a row marked fresh is inserted: one already there fails the batch whole; unmarked, it is upserted', async () => {
  const { views, schema, durable } = await store();
  const put = (id: string, n: number, position: number, fresh: boolean) => ({
    name: durable,
    position,
    writes: new Map([[id, { table: 'counters', id, doc: { n }, version: position, fresh }]]),
    outcomes: [],
  });
  const docs = async () =>
    (await env.pool.query<{ id: string; doc: Doc }>(`SELECT id, doc FROM "${schema}".counters ORDER BY id`))
      .rows;
  expect(await views.writeBatch(env.pool, put('a', 1, 1, true), 0)).toEqual({ locked: 0, moved: true });
  // 'a' exists: as fresh, the insert conflicts and nothing of the batch lands
  await expect(views.writeBatch(env.pool, put('a', 2, 2, true), 1)).rejects.toThrow(/duplicate key/);
  expect(await docs()).toEqual([{ id: 'a', doc: { n: 1 } }]);
  expect(await views.checkpoint(env.pool, durable)).toBe(1);
  // the same write not marked fresh replaces it
  expect(await views.writeBatch(env.pool, put('a', 2, 2, false), 1)).toEqual({ locked: 1, moved: true });
  expect(await docs()).toEqual([{ id: 'a', doc: { n: 2 } }]);
});

test('writeBatch names the views as they are once it holds the checkpoint lock (a replay switch renames them)', async () => {
  const live = await store();
  const rebuilt = await store();
  const writer = await env.pool.connect();
  const switcher = await env.pool.connect();
  const old = `${live.schema}_old`;
  try {
    // the write prepared and planned on this connection against the live views first
    for (let position = 1; position <= 8; position++) {
      const batch = {
        name: live.durable,
        position,
        writes: writes([{ id: 'w', doc: { n: position } }], position),
        outcomes: [],
      };
      expect(await live.views.writeBatch(writer, batch, position - 1)).toEqual({
        locked: position - 1,
        moved: true,
      });
    }
    const { rows: plans } = await writer.query<{ generic_plans: string; custom_plans: string }>(
      `SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE $1`,
      [`%"${live.schema}".checkpoints%`],
    );
    // planned once and reused: what preparing it is for
    expect(plans).toHaveLength(1);
    expect(Number(plans[0]!.generic_plans)).toBeGreaterThan(0);
    await env.pool.query(`UPDATE "${rebuilt.schema}".checkpoints SET position = 8 WHERE name = $1`, [
      rebuilt.durable,
    ]);

    await switcher.query('BEGIN');
    await switcher.query(`SELECT position FROM "${live.schema}".checkpoints WHERE name = $1 FOR UPDATE`, [
      live.durable,
    ]);
    const batch = {
      name: live.durable,
      position: 9,
      writes: writes([{ id: 'x', doc: { n: 1 } }], 9),
      outcomes: [],
    };
    const committing = live.views.writeBatch(writer, batch, 8);
    await new Promise((r) => setTimeout(r, 100)); // it waits for the lock
    await switcher.query(`ALTER SCHEMA "${live.schema}" RENAME TO "${old}"`);
    await switcher.query(`ALTER SCHEMA "${rebuilt.schema}" RENAME TO "${live.schema}"`);
    await switcher.query('COMMIT');
    expect(await committing).toEqual({ locked: 8, moved: true });
  } finally {
    switcher.release();
    writer.release();
  }
  // the write went to the views now under the live name, not to the ones renamed away
  const inLive = await env.pool.query(`SELECT id FROM "${live.schema}".counters`);
  const inOld = await env.pool.query(`SELECT id FROM "${old}".counters ORDER BY id`);
  expect(inLive.rows).toEqual([{ id: 'x' }]);
  expect(inOld.rows).toEqual([{ id: 'w' }]);
});

test('a connection that lost the prepared write fails that batch, and prepares it again for the next', async () => {
  const { views, durable } = await store();
  const client = await env.pool.connect();
  try {
    const put = (position: number) => ({
      name: durable,
      position,
      writes: writes([{ id: 'a', doc: { n: position } }], position),
      outcomes: [],
    });
    expect(await views.writeBatch(client, put(1), 0)).toEqual({ locked: 0, moved: true });
    await client.query('DEALLOCATE ALL');
    await expect(views.writeBatch(client, put(2), 1)).rejects.toThrow(/does not exist/);
    expect(await views.writeBatch(client, put(2), 1)).toEqual({ locked: 1, moved: true });
  } finally {
    client.release();
  }
});

test('a literal is dollar-quoted with a tag that neither occurs in the text nor completes at its end', () => {
  expect(sqlLiteral("it's \\ plain")).toBe("$j$it's \\ plain$j$");
  expect(sqlLiteral('a $j$ b')).toBe('$j0$a $j$ b$j0$');
  expect(sqlLiteral('ends $j')).toBe('$j0$ends $j$j0$');
  expect(sqlLiteral('$j$ and $j0')).toBe('$j1$$j$ and $j0$j1$');
});

test('positions must be integers: nothing else is inlined into the statement', () => {
  const views = new ViewStore('s', counterProjection);
  expect(() =>
    views.batchStatements({ name: 'd', position: 1.5, writes: new Map(), outcomes: [] }, 0),
  ).toThrow(TypeError);
  expect(() =>
    views.batchStatements({ name: 'd', position: 2, writes: new Map(), outcomes: [] }, Number('1; DROP')),
  ).toThrow(TypeError);
});

test('documents are stored with lz4 where the server has it, and migrating again changes nothing', async () => {
  const { views, schema } = await store();
  const compression = async () => {
    const { rows } = await env.pool.query<{ c: string }>(
      `SELECT attcompression AS c FROM pg_attribute WHERE attrelid = '"${schema}".counters'::regclass AND attname = 'doc'`,
    );
    return rows[0]!.c;
  };
  // this machine's PostgreSQL 15 is built with lz4 (the embedded one of `npm start` is not: tools/start tests it)
  expect(await compression()).toBe('l');
  await views.migrate(env.pool);
  expect(await compression()).toBe('l');
});

test('view tables leave room for HOT updates; a generated column marked unindexed has no index', async () => {
  const schema = env.names.schema(`vs_${newId().slice(-8)}`);
  const projection = {
    ...counterProjection,
    tables: [
      {
        name: 'counters',
        columns: [
          { column: 'kind', expression: "doc->>'kind'" },
          { column: 'sort_key', expression: "doc->>'at'", index: false },
        ],
      },
    ],
  };
  const views = new ViewStore(schema, projection);
  const state = async () => {
    const { rows } = await env.pool.query<{ options: string[] | null; indexes: string[] }>(
      `SELECT c.reloptions AS options,
              (SELECT array_agg(indexname::text ORDER BY indexname) FROM pg_indexes WHERE schemaname = $1 AND tablename = 'counters') AS indexes
       FROM pg_class c WHERE c.oid = '"${schema}".counters'::regclass`,
      [schema],
    );
    return rows[0];
  };
  await views.migrate(env.pool);
  expect(await state()).toEqual({
    options: ['fillfactor=80'],
    indexes: ['counters_kind_idx', 'counters_pkey'],
  });
  // an index made before the column was marked unindexed goes; a table made without room gets it
  await env.pool.query(`CREATE INDEX counters_sort_key_idx ON "${schema}".counters (sort_key)`);
  await env.pool.query(`ALTER TABLE "${schema}".counters RESET (fillfactor)`);
  await views.migrate(env.pool);
  expect(await state()).toEqual({
    options: ['fillfactor=80'],
    indexes: ['counters_kind_idx', 'counters_pkey'],
  });
});

test('fresh outcomes are inserted: one already recorded fails the batch whole; otherwise the first stays', async () => {
  const { views, schema, durable } = await store();
  const commandId = newId();
  const outcome = (message: string, position: number) => ({
    commandId,
    status: 'accepted' as const,
    type: 'Incremented',
    entity: 'projects.x',
    message,
    eventId: newId(),
    position,
  });
  const batch = (position: number, freshOutcomes: boolean) => ({
    name: durable,
    position,
    writes: writes([{ id: `r${position}`, doc: { position } }], position),
    outcomes: [outcome(`at ${position}`, position)],
    freshOutcomes,
  });
  const recorded = async () =>
    (await env.pool.query<{ message: string }>(`SELECT message FROM "${schema}".command_outcomes`)).rows;
  expect(await views.writeBatch(env.pool, batch(1, true), 0)).toEqual({ locked: 0, moved: true });
  await expect(views.writeBatch(env.pool, batch(2, true), 1)).rejects.toThrow(/duplicate key/);
  expect(await views.checkpoint(env.pool, durable)).toBe(1);
  const rows = await env.pool.query(`SELECT id FROM "${schema}".counters WHERE id = 'r2'`);
  expect(rows.rowCount).toBe(0);
  expect(await views.writeBatch(env.pool, batch(2, false), 1)).toEqual({ locked: 1, moved: true });
  expect(await recorded()).toEqual([{ message: 'at 1' }]);
});
