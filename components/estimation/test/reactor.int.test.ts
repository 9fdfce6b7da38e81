import {
  createLogger,
  deterministicId,
  encode,
  EntityStore,
  envelope,
  newId,
  projectEvents,
  type Envelope,
  type Messaging,
} from '@devpie/client-events';
import { eventually, openTestEnv, type TestEnv } from '@devpie/client-events/testing';
import { buildEstimationComponent, type EstimationComponent } from '../src/component';
import { estimateDecider } from '../src/decider';
import { allTasks } from '../src/estimate';

/*
 * The reactor against the machine's real NATS: Projects' events in, estimate commands out, the
 * estimate component deciding them. What it must survive is a crash anywhere between reading an
 * event and acknowledging it, and an event read again long after (a replay, a lost consumer).
 */

const logger = createLogger('test', 'silent');
const DUPLICATE_WINDOW_MS = 500;
const REACTOR = 'estimation-reactor-projects';
const NANOS_PER_MS = 1_000_000;

let env: TestEnv;
const running: EstimationComponent[] = [];
beforeAll(async () => {
  env = await openTestEnv({ duplicateWindowMs: DUPLICATE_WINDOW_MS });
});
afterEach(async () => {
  for (const c of running.splice(0)) await c.stop();
});
afterAll(() => env.close());

async function startComponent(messaging: Messaging = env.messaging) {
  const c = buildEstimationComponent({ messaging, logger });
  await c.start();
  running.push(c);
  return c;
}

/** A project with two tasks, as the Projects component writes them. */
function project() {
  const ids = { projectId: newId(), ownerId: newId(), columnId: newId(), a: newId(), b: newId() };
  const { projectId, ownerId, columnId } = ids;
  const origin = { userId: ownerId };
  const event = (type: string, data: Record<string, unknown>) =>
    envelope(type, { projectId, ...data }, origin) as Envelope;
  const task = (taskId: string, n: number) =>
    event('TaskAdded', {
      columnId,
      taskId,
      key: `EST-${n}`,
      number: n,
      title: `Task ${n}`,
      content: '',
      assigneeId: null,
      index: n - 1,
    });
  return {
    ...ids,
    added: event('ProjectAdded', {
      ownerId,
      teamId: null,
      name: 'Quote me',
      description: '',
      prefix: 'EST',
      public: false,
      columns: [{ columnId, title: 'To Do' }],
    }),
    taskA: task(ids.a, 1),
    taskB: task(ids.b, 2),
    destroyedA: event('TaskDestroyed', { taskId: ids.a, columnId }),
    destroyed: event('ProjectDestroyed', {}),
  };
}

async function publishEvents(...events: Envelope[]) {
  for (const e of events) {
    const valid = projectEvents.parse(e);
    const subject = env.names.entity('projects', projectEvents.entityId(valid.data));
    await env.messaging.js.publish(subject, encode(valid), { msgID: valid.id });
  }
}

/** Every message on `estimates.<projectId>`: each one is the outcome of one command. */
async function outcomes(projectId: string): Promise<Envelope[]> {
  const c = await env.messaging.js.consumers.get(env.names.stream('EVENTS'), {
    filter_subjects: env.names.entity('estimates', projectId),
  });
  const out: Envelope[] = [];
  if ((await c.info()).num_pending === 0) return out;
  for await (const m of await c.consume()) {
    out.push(m.json<Envelope>());
    if (m.info.pending === 0) break;
  }
  return out;
}

async function outcomeTypes(projectId: string, count: number): Promise<string[]> {
  return eventually(async () => {
    const all = await outcomes(projectId);
    return all.length >= count ? all.map((e) => e.type) : undefined;
  });
}

/** Messages stored on `estimates.command.<projectId>`. */
async function commandsStored(projectId: string): Promise<number> {
  const subject = env.names.command('estimates', projectId);
  const info = await env.messaging.jsm.streams.info(env.names.stream('COMMANDS'), {
    subjects_filter: subject,
  });
  return info.state.subjects?.[subject] ?? 0;
}

/** The estimate as a cold replica would load it (from its events, no cache), its tasks in one object. */
async function estimate(projectId: string) {
  const { state } = await new EntityStore(env.messaging, estimateDecider).load(projectId);
  return { ...state, tasks: allTasks(state) };
}

/** Waits until a durable consumer has handed out and seen acknowledged everything it holds. */
async function drained(stream: 'EVENTS' | 'COMMANDS', durable: string) {
  await eventually(async () => {
    const info = await env.messaging.jsm.consumers.info(env.names.stream(stream), env.names.durable(durable));
    return info.num_pending === 0 && info.num_ack_pending === 0 ? true : undefined;
  });
}

/** A crashed process's unacked events come back after the ack wait; the test does not wait 30 s for it. */
async function shortenReactorAckWait() {
  await env.messaging.jsm.consumers.update(env.names.stream('EVENTS'), env.names.durable(REACTOR), {
    ack_wait: 300 * NANOS_PER_MS,
  });
}

/** The reactor's connection dies while it publishes a command: before the write, or after it and before the ack. */
function crashingMessaging(m: Messaging, when: 'before-write' | 'after-write') {
  let crashed!: () => void;
  const crash = new Promise<void>((resolve) => (crashed = resolve));
  const publisher = new Proxy(m.publisher, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (prop !== 'publish') return typeof value === 'function' ? value.bind(target) : value;
      const publish = value as (subject: string, ...rest: unknown[]) => Promise<unknown>;
      return async (subject: string, ...rest: unknown[]) => {
        if (!subject.includes('.command.')) return publish.call(target, subject, ...rest);
        if (when === 'after-write') await publish.call(target, subject, ...rest);
        await m.nc.close();
        crashed();
        return new Promise(() => undefined); // the process is gone: this call never returns
      };
    },
  });
  return { messaging: { ...m, publisher } as Messaging, crash };
}

test('follows a project: opens the estimate, registers tasks, removes a destroyed one, archives', async () => {
  await startComponent();
  const p = project();
  await publishEvents(p.added, p.taskA, p.taskB);
  expect(await outcomeTypes(p.projectId, 3)).toEqual(['EstimateOpened', 'TaskRegistered', 'TaskRegistered']);
  await publishEvents(p.destroyedA, p.destroyed);
  const all = await eventually(async () => {
    const o = await outcomes(p.projectId);
    return o.length === 5 ? o : undefined;
  });
  expect(all.map((e) => e.type)).toEqual([
    'EstimateOpened',
    'TaskRegistered',
    'TaskRegistered',
    'TaskEstimateRemoved',
    'EstimateArchived',
  ]);
  // each command's id derives from its event's id, and the chain of causes is kept
  const causes = [p.added, p.taskA, p.taskB, p.destroyedA, p.destroyed];
  all.forEach((outcome, i) => {
    expect(outcome.metadata.causationId).toBe(deterministicId(causes[i]!.id, `${REACTOR}:0`));
    expect(outcome.metadata.userId).toBe(p.ownerId);
  });
  expect(await estimate(p.projectId)).toEqual({
    status: 'archived',
    ownerId: p.ownerId,
    teamId: null,
    rate: null,
    tasks: {
      [p.a]: { removed: true, revision: 0, estimate: null },
      [p.b]: { removed: false, revision: 0, estimate: null },
    },
  });
});

test('a crash after reading the events and before writing the command loses none of them', async () => {
  const p = project();
  await publishEvents(p.added, p.taskA, p.taskB);
  const { messaging, crash } = crashingMessaging(await env.connect('reactor-a'), 'before-write');
  // only its reactor runs there (the command processor is elsewhere); it dies mid-write
  const doomed = buildEstimationComponent({ messaging, logger }).reactor;
  await doomed.start();
  await crash;
  void doomed.stop(); // frees the dead consumer's timers; its loop stays stuck in the write forever
  expect(await commandsStored(p.projectId)).toBe(0);

  await startComponent();
  await shortenReactorAckWait();
  expect(await outcomeTypes(p.projectId, 3)).toEqual(['EstimateOpened', 'TaskRegistered', 'TaskRegistered']);
  await drained('EVENTS', REACTOR);
  await drained('COMMANDS', 'estimates-component');
  expect(await commandsStored(p.projectId)).toBe(3);
  expect(await outcomes(p.projectId)).toHaveLength(3);
  expect(await estimate(p.projectId)).toMatchObject({
    status: 'open',
    ownerId: p.ownerId,
    tasks: { [p.a]: { removed: false }, [p.b]: { removed: false } },
  });
});

test('a crash after writing the command and before the ack issues it again under the same id, decided once', async () => {
  const p = project();
  await publishEvents(p.added);
  const { messaging, crash } = crashingMessaging(await env.connect('reactor-b'), 'after-write');
  const doomed = buildEstimationComponent({ messaging, logger }).reactor;
  await doomed.start();
  await crash;
  void doomed.stop();
  expect(await commandsStored(p.projectId)).toBe(1);

  await startComponent();
  await shortenReactorAckWait();
  await publishEvents(p.taskA);
  expect(await outcomeTypes(p.projectId, 2)).toEqual(['EstimateOpened', 'TaskRegistered']);
  await drained('EVENTS', REACTOR);
  await drained('COMMANDS', 'estimates-component');
  // the redelivered ProjectAdded gave the same OpenEstimate id: JetStream stored it once
  expect(await commandsStored(p.projectId)).toBe(2);
  expect(await outcomes(p.projectId)).toHaveLength(2);
  expect((await estimate(p.projectId)).status).toBe('open');
});

test('events read again past the dedup window issue the same commands, which the estimate ignores', async () => {
  await startComponent();
  const p = project();
  await publishEvents(p.added, p.taskA, p.taskB, p.destroyedA);
  expect(await outcomeTypes(p.projectId, 4)).toHaveLength(4);
  await drained('EVENTS', REACTOR);
  const before = await estimate(p.projectId);
  expect(await commandsStored(p.projectId)).toBe(4);

  // the reactor loses its position (a deleted consumer, a restore) and reads every event again
  for (const c of running.splice(0)) await c.stop();
  await new Promise((r) => setTimeout(r, DUPLICATE_WINDOW_MS + 200));
  await env.messaging.jsm.consumers.delete(env.names.stream('EVENTS'), env.names.durable(REACTOR));
  // a cold replica on its own connection: no cache, only the events tell it what it has done
  await startComponent(await env.connect('replica-cold'));
  await eventually(async () => ((await commandsStored(p.projectId)) === 8 ? true : undefined));
  await drained('EVENTS', REACTOR);
  await drained('COMMANDS', 'estimates-component');

  expect(await outcomes(p.projectId)).toHaveLength(4);
  expect(await estimate(p.projectId)).toEqual(before);
  // and the estimate still takes new work
  await publishEvents(p.destroyed);
  expect(await outcomeTypes(p.projectId, 5)).toEqual([
    'EstimateOpened',
    'TaskRegistered',
    'TaskRegistered',
    'TaskEstimateRemoved',
    'EstimateArchived',
  ]);
});
