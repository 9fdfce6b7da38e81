import type { ConsumeOptions, Consumer, ConsumerMessages } from '@nats-io/jetstream';
import {
  envelope,
  newId,
  createLogger,
  listParked,
  buildComponent,
  type Envelope,
  type Messaging,
} from '../src';
import { publishCommand } from '../src/runtime/publish';
import { eventually, openTestEnv, type TestEnv } from '../src/testing';
import { counterCommands, counterDecider } from './fixtures/counter';

const logger = createLogger('test', 'silent');
let env: TestEnv;
beforeAll(async () => {
  env = await openTestEnv({ duplicateWindowMs: 1000 });
});
afterAll(() => env.close());

const component = (
  messaging: Messaging = env.messaging,
  extra: Partial<Parameters<typeof buildComponent>[0]> = {},
) =>
  buildComponent({
    messaging,
    decider: counterDecider,
    name: 'counter-component',
    logger,
    maxDeliver: 2,
    ...extra,
  });

async function entityEvents(projectId: string): Promise<Envelope[]> {
  const c = await env.messaging.js.consumers.get(env.names.stream('EVENTS'), {
    filter_subjects: env.names.entity('projects', projectId),
  });
  const out: Envelope[] = [];
  const info = await c.info();
  if (info.num_pending === 0) return out;
  for await (const m of await c.consume()) {
    out.push(m.json<Envelope>());
    if (m.info.pending === 0) break;
  }
  return out;
}

const increment = (projectId: string, by = 1) => envelope('Increment', { projectId, by }, { userId: 'u1' });

test('concurrent commands on one entity from two replicas are each decided on fresh state', async () => {
  const a = component(await env.connect('replica-a'));
  const b = component(await env.connect('replica-b'));
  await a.start();
  await b.start();
  const projectId = newId();
  const n = 60;
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      publishCommand(env.messaging, counterCommands, increment(projectId, i + 1)),
    ),
  );
  const events = await eventually(async () => {
    const e = await entityEvents(projectId);
    return e.length === n ? e : undefined;
  }, 20_000);
  await Promise.all([a.stop(), b.stop()]);
  // no lost update: every event's total is the previous total plus its own increment
  let total = 0;
  for (const e of events) {
    const data = e.data as { by: number; total: number };
    total += data.by;
    expect(data.total).toBe(total);
  }
  expect(total).toBe((n * (n + 1)) / 2);
});

test('a command published twice, or redelivered after the append, is appended once', async () => {
  const c = component();
  const projectId = newId();
  const cmd = increment(projectId, 5);
  // the crash: the previous process appended the event and died before acking the command
  await c.handle(cmd);
  await publishCommand(env.messaging, counterCommands, cmd);
  await publishCommand(env.messaging, counterCommands, cmd);
  // past the dedup window a cold replica (empty cache) gets it again: the entity remembers it
  await new Promise((r) => setTimeout(r, 1200));
  await publishCommand(env.messaging, counterCommands, cmd);
  const fresh = component(await env.connect('cold'));
  await fresh.start();
  await publishCommand(env.messaging, counterCommands, increment(projectId, 1));
  await eventually(async () => ((await entityEvents(projectId)).length === 2 ? true : undefined));
  await eventually(async () => {
    const info = await env.messaging.jsm.consumers.info(
      env.names.stream('COMMANDS'),
      env.names.durable('counter-component'),
    );
    return info.num_pending === 0 && info.num_ack_pending === 0 ? true : undefined;
  });
  await fresh.stop();
  const events = await entityEvents(projectId);
  expect(events.map((e) => (e.data as { total: number }).total)).toEqual([5, 6]);
  expect(events[0]!.metadata.causationId).toBe(cmd.id);
});

test('a rejection is recorded on the entity, and a repeated command is not decided again', async () => {
  const c = component();
  const projectId = newId();
  await c.handle(envelope('Close', { projectId }, { userId: 'u1' }));
  const late = increment(projectId);
  expect((await c.handle(late)).outcome).toBe('rejected');
  expect((await c.handle(late)).outcome).toBe('duplicate');
  const events = await entityEvents(projectId);
  expect(events.map((e) => e.type)).toEqual(['Closed', 'CommandRejected']);
  expect(events[1]!.data).toEqual({
    commandId: late.id,
    commandType: 'Increment',
    reason: 'InvalidTransition',
    message: 'counter is closed',
  });
});

test('a malformed command and one whose handler always throws are parked; later commands still run', async () => {
  const c = component(env.messaging, { name: 'poison-component' });
  await c.start();
  const projectId = newId();
  await env.messaging.js.publish(env.names.command('projects', projectId), '{not json');
  await publishCommand(env.messaging, counterCommands, envelope('Explode', { projectId }, { userId: 'u1' }));
  await publishCommand(env.messaging, counterCommands, increment(projectId, 7));
  const parked = await eventually(async () => {
    const p = await listParked(env.messaging, 'poison-component');
    return p.length === 2 ? p : undefined;
  });
  await eventually(async () => ((await entityEvents(projectId)).length === 1 ? true : undefined));
  await c.stop();
  expect(parked.map((p) => p.errorName).sort()).toEqual(['Error', 'ValidationError']);
  expect(parked.find((p) => p.errorName === 'Error')).toMatchObject({
    error: 'boom: this handler always fails',
    deliveries: 2,
    subject: env.names.command('projects', projectId),
  });
  expect(parked.find((p) => p.errorName === 'ValidationError')!.error).toContain('not JSON');
});

test('a consume that nats.js ends with an error is opened again: later commands are still decided', async () => {
  const { js } = env.messaging;
  const projectId = newId();
  const subject = env.names.command('projects', projectId);
  // this file's earlier commands are in the stream too: the break waits for this test's own command,
  // and the later ones are sent once the consume is open again (what the ended consume's pull was
  // sent after it ended comes back only after the ack wait, 30 s)
  let broken = false;
  let reopened = 0;
  const boundWhileReopening: boolean[] = [];
  const bound = <T extends object>(target: T, key: string | symbol): unknown => {
    const v = Reflect.get(target, key) as unknown;
    return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
  };
  // the first consume with a callback ends with an error right after it delivered this test's command
  const breakOnce = (consumer: Consumer) =>
    new Proxy(consumer, {
      get: (c, key) =>
        key !== 'consume'
          ? bound(c, key)
          : async (o?: ConsumeOptions) => {
              const callback = o && 'callback' in o ? o.callback : undefined;
              if (!callback) return c.consume(o);
              if (broken) {
                reopened++;
                boundWhileReopening.push(processor.bound);
                return c.consume(o);
              }
              const messages: ConsumerMessages = await c.consume({
                ...o,
                callback: (m) => {
                  callback(m);
                  if (broken || m.subject !== subject) return;
                  broken = true;
                  setImmediate(() => messages.stop(new Error('consume broke')));
                },
              });
              return messages;
            },
    });
  const flaky: Messaging = {
    ...env.messaging,
    js: new Proxy(js, {
      get: (target, key) =>
        key !== 'consumers'
          ? bound(target, key)
          : new Proxy(js.consumers, {
              get: (consumers, k) =>
                k !== 'get'
                  ? bound(consumers, k)
                  : async (...args: Parameters<typeof js.consumers.get>) =>
                      breakOnce(await js.consumers.get(...args)),
            }),
    }),
  };
  const processor = component(flaky, { name: 'reopened' });
  await processor.start();
  try {
    await publishCommand(env.messaging, counterCommands, increment(projectId, 1));
    await eventually(async () => ((await entityEvents(projectId)).length === 1 ? true : undefined));
    await eventually(async () => (reopened === 1 ? true : undefined));
    expect(broken).toBe(true);
    for (const by of [2, 3, 4])
      await publishCommand(env.messaging, counterCommands, increment(projectId, by));
    const events = await eventually(async () => {
      const e = await entityEvents(projectId);
      return e.length === 4 ? e : undefined;
    }, 15_000);
    expect(events.map((e) => (e.data as { total: number }).total)).toEqual([1, 3, 6, 10]);
    expect(reopened).toBe(1);
    expect(boundWhileReopening).toEqual([false]); // not ready while it consumes nothing
    expect(processor.bound).toBe(true);
  } finally {
    await processor.stop();
  }
});
