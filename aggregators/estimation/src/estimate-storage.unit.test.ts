import {
  childWrites,
  estimateEvents,
  joinDoc,
  newId,
  projectEvents,
  type Envelope,
} from '@devpie/client-events';
import { msg } from '@devpie/client-events/testing';
import type { EstimateDoc } from './estimate-doc';
import { ESTIMATE_LINES, estimateStorage, type StoredEstimate } from './estimate-storage';
import { estimationProjection } from './projection';

/** An estimate folded event by event, with each event's line writes. */
function estimate() {
  const projectId = newId();
  const ownerId = newId();
  const column = newId();
  const tasks = [newId(), newId(), newId()];
  let doc: EstimateDoc | undefined;
  let position = 0;
  const apply = (event: Envelope) => {
    const set = estimateEvents.has(event.type) ? estimateEvents : projectEvents;
    const writes = estimationProjection.fold({ get: () => doc }, set.parse(event), ++position);
    const next = writes.find((w) => w.table === 'estimates');
    const lines = next ? childWrites(estimateStorage, projectId, doc, next.doc) : [];
    if (next) doc = (next.doc as EstimateDoc | null) ?? undefined;
    return lines;
  };
  const ev = (type: string, data: object) => msg(type, { projectId, ...data }, { userId: ownerId });
  apply(
    ev('ProjectAdded', {
      ownerId,
      teamId: null,
      name: 'Site',
      description: '',
      prefix: 'S',
      public: false,
      columns: [{ columnId: column, title: 'To Do' }],
    }),
  );
  apply(ev('EstimateOpened', { ownerId, teamId: null }));
  tasks.forEach((taskId, i) =>
    apply(
      ev('TaskAdded', {
        columnId: column,
        taskId,
        key: `S-${i + 1}`,
        number: i + 1,
        title: `Task ${i + 1}`,
        content: '',
        assigneeId: null,
        index: i,
      }),
    ),
  );
  return { projectId, tasks, ev, apply, doc: () => doc! };
}

test('the stored estimate lists its lines’ task ids; joined with its lines it is the estimate again', () => {
  const { tasks, doc } = estimate();
  const header = estimateStorage.header(doc()) as StoredEstimate;
  expect(header.lineIds).toEqual(tasks);
  expect(header).not.toHaveProperty('lines');
  expect(joinDoc(estimateStorage, header, [...estimateStorage.children(doc())].reverse())).toEqual(doc());
});

test('estimating a task writes its line only; a removed task deletes its line', () => {
  const { projectId, tasks, ev, apply } = estimate();
  const estimated = apply(
    ev('TaskEstimated', {
      taskId: tasks[1],
      estimate: { optimistic: 1, likely: 2, pessimistic: 6 },
      revision: 1,
    }),
  );
  expect(estimated).toEqual([
    {
      table: ESTIMATE_LINES,
      id: `${projectId}/${tasks[1]}`,
      doc: expect.objectContaining({ revision: 1 }),
      created: false,
    },
  ]);
  expect(apply(ev('TaskEstimateRemoved', { taskId: tasks[0] }))).toEqual([
    { table: ESTIMATE_LINES, id: `${projectId}/${tasks[0]}`, doc: null, created: false },
  ]);
  expect(apply(ev('RateSet', { hourlyRate: 9000, currency: 'EUR' }))).toEqual([]);
});
