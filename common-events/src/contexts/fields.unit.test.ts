import { envelope } from '../envelope';
import { newId } from '../ids';
import { ValidationError } from '../errors';
import { COMMAND_REJECTED } from '../rejections';
import { teamCommands, userCommands } from './identity';
import { projectCommands, projectEvents } from './projects';

/** The paths a parse refuses, or [] when it accepts the message. */
function refused(parse: () => unknown): string[] {
  try {
    parse();
    return [];
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    return err.issues.map((i) => i.path);
  }
}

const NUL = '\u0000';
const projectId = newId();
const userId = newId();

test('no free text takes the NUL character, which Postgres stores in neither text nor jsonb', () => {
  const task = { projectId, columnId: newId(), taskId: newId(), title: 'T', content: '', assigneeId: null };
  const event = (data: object) =>
    envelope('TaskAdded', { key: 'P-1', number: 1, index: 0, ...task, ...data }, { userId });
  expect(refused(() => projectEvents.parse(event({})))).toEqual([]);
  expect(refused(() => projectEvents.parse(event({ title: `a${NUL}` })))).toEqual(['data.title']);
  expect(refused(() => projectEvents.parse(event({ content: `${NUL}` })))).toEqual(['data.content']);
  expect(
    refused(() =>
      projectCommands.parse(
        envelope('ModifyProject', { projectId, changes: { description: NUL } }, { userId }),
      ),
    ),
  ).toEqual(['data.changes.description']);
  expect(
    refused(() =>
      teamCommands.parse(
        envelope('AddTeam', { teamId: newId(), name: `x${NUL}`, membershipId: newId() }, { userId }),
      ),
    ),
  ).toEqual(['data.name']);
  expect(
    refused(() =>
      userCommands.parse(
        envelope(
          'ModifyUser',
          { userId, changes: { picture: `https://example.com/${NUL}.png` } },
          { userId },
        ),
      ),
    ),
  ).toEqual(['data.changes.picture']);
  // recorded rejections too
  const rejection = (message: string) =>
    envelope(
      COMMAND_REJECTED,
      { commandId: newId(), commandType: 'AddTask', reason: 'NotFound', message },
      { userId },
    );
  expect(refused(() => projectEvents.parse(rejection('no such task')))).toEqual([]);
  expect(refused(() => projectEvents.parse(rejection(`no ${NUL}`)))).toEqual(['data.message']);
  // who acted, which a view may store (an estimate's history)
  const actor = envelope('ModifyProject', { projectId, changes: { name: 'x' } }, { userId: `u${NUL}` });
  expect(refused(() => projectCommands.parse(actor))).toEqual(['metadata.userId']);
});

test('nor a lone UTF-16 surrogate, which jsonb refuses as an escape; a pair (an emoji) is text', () => {
  const add = (title: string) =>
    projectCommands.parse(envelope('AddColumn', { projectId, columnId: newId(), title }, { userId }));
  expect(refused(() => add('high \ud800 alone'))).toEqual(['data.title']);
  expect(refused(() => add('low \udc00 alone'))).toEqual(['data.title']);
  expect(refused(() => add('swapped \udc00\ud800'))).toEqual(['data.title']);
  expect(refused(() => add('a pair 😀 \ud83d\ude00'))).toEqual([]);
});

test('other control characters stay allowed: tabs and line breaks are text', () => {
  const changes = { title: 'a\tb', content: 'line\r\nbreak \u0001 \u001f' };
  expect(
    refused(() =>
      projectCommands.parse(envelope('ModifyTask', { projectId, taskId: newId(), changes }, { userId })),
    ),
  ).toEqual([]);
});
