import { envelope, newId, PayloadTooLargeError, UnknownMessageTypeError, ValidationError } from '../src';
import { publishCommand } from '../src/runtime/publish';
import { openTestEnv, type TestEnv } from '../src/testing';
import { counterCommands } from './fixtures/counter';

let env: TestEnv;
beforeAll(async () => {
  env = await openTestEnv();
});
afterAll(() => env.close());

const increment = (projectId: string, by = 1) => envelope('Increment', { projectId, by }, { userId: null });

test('a command lands on <category>.command.<id>, and a resend is a no-op', async () => {
  const cmd = increment(newId());
  const first = await publishCommand(env.messaging, counterCommands, cmd);
  const again = await publishCommand(env.messaging, counterCommands, cmd);
  expect(first.duplicate).toBe(false);
  expect(again).toEqual({ seq: first.seq, duplicate: true });
  const stored = await env.messaging.jsm.streams.getMessage(env.names.stream('COMMANDS'), { seq: first.seq });
  expect(stored?.subject).toBe(env.names.command('projects', cmd.data.projectId));
  const info = await env.messaging.jsm.streams.info(env.names.stream('COMMANDS'));
  expect(info.state.messages).toBe(1);
});

test('bad commands are refused at publish with a typed error naming the problem', async () => {
  const good = increment(newId());
  await expect(publishCommand(env.messaging, counterCommands, { ...good, id: 'nope' })).rejects.toMatchObject(
    {
      name: 'ValidationError',
      issues: [{ path: 'id' }],
    },
  );
  await expect(
    publishCommand(env.messaging, counterCommands, { ...good, type: 'Decrement' }),
  ).rejects.toBeInstanceOf(UnknownMessageTypeError);
  const wrong = publishCommand(env.messaging, counterCommands, {
    ...good,
    data: { projectId: good.data.projectId, by: 'x' },
  });
  await expect(wrong).rejects.toBeInstanceOf(ValidationError);
  await expect(wrong).rejects.toMatchObject({ issues: [{ path: 'data.by' }] });
  await expect(
    publishCommand(env.messaging, counterCommands, { ...good, data: { ...good.data, extra: true } }),
  ).rejects.toMatchObject({ issues: [{ path: 'data' }] });
  await expect(
    publishCommand(env.messaging, counterCommands, good, { maxBytes: 100 }),
  ).rejects.toBeInstanceOf(PayloadTooLargeError);
  const info = await env.messaging.jsm.streams.info(env.names.stream('COMMANDS'));
  expect(info.state.messages).toBe(1);
});
