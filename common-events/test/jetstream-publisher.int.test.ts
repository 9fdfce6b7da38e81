import { JetStreamApiError } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { coalesceWrites, JetStreamPublisher } from '../src';
import { openTestEnv, type TestEnv } from '../src/testing';

let env: TestEnv;
beforeAll(async () => {
  env = await openTestEnv();
});
afterAll(() => env.close());

const body = (text: string) => new TextEncoder().encode(text);
const entity = () => env.names.entity('projects', `p${Math.random().toString(36).slice(2)}`);

test('an acked publish answers the stream and sequence; a repeated Nats-Msg-Id stores nothing', async () => {
  const { publisher } = env.messaging;
  const subject = entity();
  const first = await publisher.publish(subject, body('one'), { msgId: 'm-1' });
  const again = await publisher.publish(subject, body('one'), { msgId: 'm-1' });
  expect(first).toEqual({ stream: env.names.stream('EVENTS'), seq: expect.any(Number), duplicate: false });
  expect(again).toEqual({ ...first, duplicate: true });
  const stored = await env.messaging.jsm.streams.getMessage(env.names.stream('EVENTS'), { seq: first.seq });
  expect(stored?.subject).toBe(subject);
  expect(stored?.header.get('Nats-Msg-Id')).toBe('m-1');
});

test('the expected last subject sequence is enforced: a stale one is the server error 10071', async () => {
  const { publisher } = env.messaging;
  const subject = entity();
  const a = await publisher.publish(subject, body('a'), { expectedLastSubjectSequence: 0 });
  const b = await publisher.publish(subject, body('b'), { expectedLastSubjectSequence: a.seq });
  expect(b.seq).toBeGreaterThan(a.seq);
  const stale = publisher.publish(subject, body('c'), { expectedLastSubjectSequence: a.seq });
  await expect(stale).rejects.toBeInstanceOf(JetStreamApiError);
  await expect(stale).rejects.toMatchObject({ code: 10071 });
  const fresh = publisher.publish(entity(), body('d'), { expectedLastSubjectSequence: 5 });
  await expect(fresh).rejects.toMatchObject({ code: 10071 });
});

test('many publishes in flight each get their own ack, in any order of arrival', async () => {
  const { publisher } = env.messaging;
  const subjects = Array.from({ length: 20 }, entity);
  const acks = await Promise.all(
    Array.from({ length: 1_000 }, (_, i) => publisher.publish(subjects[i % 20]!, body(`m${i}`))),
  );
  expect(new Set(acks.map((a) => a.seq)).size).toBe(1_000);
  for (const [i, ack] of acks.entries()) {
    const stored = await env.messaging.jsm.streams.getMessage(env.names.stream('EVENTS'), { seq: ack.seq });
    if (i % 97 === 0) expect(new TextDecoder().decode(stored!.data)).toBe(`m${i}`);
  }
  expect(publisher.pending).toBe(0);
});

test('no stream on the subject is NoResponders; no answer at all is a TimeoutError', async () => {
  const publisher = new JetStreamPublisher(env.messaging.nc, 300);
  await expect(publisher.publish(`${env.names.root}nowhere.x`, body('x'))).rejects.toMatchObject({
    name: 'NoResponders',
  });
  // a core subscriber that never answers: the request is neither refused nor acked
  const silent = env.messaging.nc.subscribe(`${env.names.root}silent.*`, { callback: () => undefined });
  const started = Date.now();
  await expect(publisher.publish(`${env.names.root}silent.x`, body('x'))).rejects.toMatchObject({
    name: 'TimeoutError',
  });
  expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  expect(publisher.pending).toBe(0);
  silent.unsubscribe();
  publisher.close();
});

test('closing the connection fails what is still waiting for its ack', async () => {
  const messaging = await env.connect('closing');
  const silent = env.messaging.nc.subscribe(`${env.names.root}silent2.*`, { callback: () => undefined });
  await env.messaging.nc.flush();
  const waiting = messaging.publisher.publish(`${env.names.root}silent2.x`, body('x'));
  await messaging.nc.close();
  await expect(waiting).rejects.toMatchObject({ name: 'JetStreamError' });
  silent.unsubscribe();
});

test('coalesced writes: what one event-loop turn publishes leaves in one socket write', async () => {
  const count = async (coalesce: boolean) => {
    const nc = await connect({ servers: env.messaging.nc.getServer() });
    if (coalesce) expect(coalesceWrites(nc)).toBe(true);
    const transport = (nc as unknown as { protocol: { transport: { send(f: Uint8Array): void } } }).protocol
      .transport;
    let writes = 0;
    const send = transport.send.bind(transport);
    transport.send = (frame) => {
      writes++;
      send(frame);
    };
    const received: string[] = [];
    const sub = env.messaging.nc.subscribe(`${env.names.root}coalesce.${coalesce}`, {
      callback: (_e, m) => void received.push(m.string()),
    });
    await env.messaging.nc.flush();
    // one publish per promise continuation, as the acks and appends of many messages handled at once
    for (let i = 0; i < 50; i++) {
      nc.publish(`${env.names.root}coalesce.${coalesce}`, `m${i}`);
      await null;
    }
    await nc.flush();
    const n = writes;
    await nc.close();
    await env.messaging.nc.flush();
    sub.unsubscribe();
    return { writes: n, received };
  };
  const plain = await count(false);
  const coalesced = await count(true);
  expect(plain.writes).toBeGreaterThanOrEqual(50);
  expect(coalesced.writes).toBeLessThanOrEqual(2);
  expect(coalesced.received).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
});
