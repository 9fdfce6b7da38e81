import { envelope, newId, type DraftOf, type EstimateEvent } from '@devpie/client-events';
import { given } from '@devpie/client-events/testing';
import { estimateDecider } from './decider';
import { allTasks, taskOf, type EstimateState } from './estimate';

const estimate = { optimistic: 1, likely: 2.5, pessimistic: 6 };

function fixture() {
  const projectId = newId();
  const ownerId = newId();
  const teamId = newId();
  const taskId = newId();
  const opened = { type: 'EstimateOpened' as const, data: { projectId, ownerId, teamId } };
  const registered = { type: 'TaskRegistered' as const, data: { projectId, taskId } };
  const estimated = { type: 'TaskEstimated' as const, data: { projectId, taskId, estimate, revision: 1 } };
  const removed = { type: 'TaskEstimateRemoved' as const, data: { projectId, taskId } };
  const archived = { type: 'EstimateArchived' as const, data: { projectId } };
  return { projectId, ownerId, teamId, taskId, opened, registered, estimated, removed, archived };
}

describe('OpenEstimate', () => {
  it('opens an initial estimate', () => {
    const { projectId, ownerId } = fixture();
    given(estimateDecider)
      .when({ type: 'OpenEstimate', data: { projectId, ownerId, teamId: null } })
      .then({ type: 'EstimateOpened', data: { projectId, ownerId, teamId: null } });
  });

  it('opens an estimate whose tasks were registered first', () => {
    const { projectId, ownerId, teamId, registered } = fixture();
    given(estimateDecider, [registered])
      .when({ type: 'OpenEstimate', data: { projectId, ownerId, teamId } })
      .then({ type: 'EstimateOpened', data: { projectId, ownerId, teamId } });
  });

  it('rejects an estimate already open', () => {
    const { projectId, ownerId, teamId, opened } = fixture();
    given(estimateDecider, [opened])
      .when({ type: 'OpenEstimate', data: { projectId, ownerId, teamId } })
      .thenRejects('AlreadyExists');
  });

  it('rejects an archived estimate', () => {
    const { projectId, ownerId, teamId, archived } = fixture();
    given(estimateDecider, [archived])
      .when({ type: 'OpenEstimate', data: { projectId, ownerId, teamId } })
      .thenRejects('EstimateArchived');
  });
});

describe('RegisterTask', () => {
  it('registers a task on an open estimate', () => {
    const { projectId, taskId, opened } = fixture();
    given(estimateDecider, [opened])
      .when({ type: 'RegisterTask', data: { projectId, taskId } })
      .then({ type: 'TaskRegistered', data: { projectId, taskId } });
  });

  it('registers a task before the estimate is opened', () => {
    const { projectId, taskId } = fixture();
    given(estimateDecider)
      .when({ type: 'RegisterTask', data: { projectId, taskId } })
      .then({ type: 'TaskRegistered', data: { projectId, taskId } });
  });

  it('rejects a task already registered', () => {
    const { projectId, taskId, opened, registered } = fixture();
    given(estimateDecider, [opened, registered])
      .when({ type: 'RegisterTask', data: { projectId, taskId } })
      .thenRejects('AlreadyExists');
  });

  it('rejects a task that was removed', () => {
    const { projectId, taskId, opened, registered, removed } = fixture();
    given(estimateDecider, [opened, registered, removed])
      .when({ type: 'RegisterTask', data: { projectId, taskId } })
      .thenRejects('AlreadyExists');
  });

  it('rejects on an archived estimate', () => {
    const { projectId, taskId, opened, archived } = fixture();
    given(estimateDecider, [opened, archived])
      .when({ type: 'RegisterTask', data: { projectId, taskId } })
      .thenRejects('EstimateArchived');
  });
});

describe('SetRate', () => {
  it('sets the rate of an open estimate', () => {
    const { projectId, opened } = fixture();
    given(estimateDecider, [opened])
      .when({ type: 'SetRate', data: { projectId, hourlyRate: 9500, currency: 'EUR' } })
      .then({ type: 'RateSet', data: { projectId, hourlyRate: 9500, currency: 'EUR' } });
  });

  it('changes a rate already set', () => {
    const { projectId, opened } = fixture();
    const rateSet = { type: 'RateSet' as const, data: { projectId, hourlyRate: 9500, currency: 'EUR' } };
    given(estimateDecider, [opened, rateSet])
      .when({ type: 'SetRate', data: { projectId, hourlyRate: 12_000, currency: 'JPY' } })
      .then({ type: 'RateSet', data: { projectId, hourlyRate: 12_000, currency: 'JPY' } });
  });

  it('rejects an estimate not opened', () => {
    const { projectId, registered } = fixture();
    given(estimateDecider, [registered])
      .when({ type: 'SetRate', data: { projectId, hourlyRate: 9500, currency: 'EUR' } })
      .thenRejects('NotFound');
  });

  it('rejects an archived estimate', () => {
    const { projectId, opened, archived } = fixture();
    given(estimateDecider, [opened, archived])
      .when({ type: 'SetRate', data: { projectId, hourlyRate: 9500, currency: 'EUR' } })
      .thenRejects('EstimateArchived');
  });
});

describe('EstimateTask', () => {
  it('estimates a registered task as revision 1', () => {
    const { projectId, taskId, opened, registered } = fixture();
    given(estimateDecider, [opened, registered])
      .when({ type: 'EstimateTask', data: { projectId, taskId, estimate } })
      .then({ type: 'TaskEstimated', data: { projectId, taskId, estimate, revision: 1 } });
  });

  it('counts revisions', () => {
    const { projectId, taskId, opened, registered, estimated } = fixture();
    const again = { ...estimated, data: { ...estimated.data, revision: 2 } };
    const next = { optimistic: 2, likely: 3, pessimistic: 4 };
    given(estimateDecider, [opened, registered, estimated, again])
      .when({ type: 'EstimateTask', data: { projectId, taskId, estimate: next } })
      .then({ type: 'TaskEstimated', data: { projectId, taskId, estimate: next, revision: 3 } });
  });

  it('rejects a task never registered', () => {
    const { projectId, opened, registered } = fixture();
    given(estimateDecider, [opened, registered])
      .when({ type: 'EstimateTask', data: { projectId, taskId: newId(), estimate } })
      .thenRejects('TaskNotFound');
  });

  it('rejects a removed task', () => {
    const { projectId, taskId, opened, registered, estimated, removed } = fixture();
    given(estimateDecider, [opened, registered, estimated, removed])
      .when({ type: 'EstimateTask', data: { projectId, taskId, estimate } })
      .thenRejects('TaskNotFound');
  });

  it('rejects an estimate not opened', () => {
    const { projectId, taskId, registered } = fixture();
    given(estimateDecider, [registered])
      .when({ type: 'EstimateTask', data: { projectId, taskId, estimate } })
      .thenRejects('NotFound');
  });

  it('rejects an archived estimate', () => {
    const { projectId, taskId, opened, registered, archived } = fixture();
    given(estimateDecider, [opened, registered, archived])
      .when({ type: 'EstimateTask', data: { projectId, taskId, estimate } })
      .thenRejects('EstimateArchived');
  });

  it('refuses an estimate out of order before it reaches the decider', () => {
    const { projectId, taskId, opened, registered } = fixture();
    const bad = { optimistic: 5, likely: 2, pessimistic: 6 };
    expect(() =>
      given(estimateDecider, [opened, registered]).when({
        type: 'EstimateTask',
        data: { projectId, taskId, estimate: bad },
      }),
    ).toThrow('invalid EstimateTask');
  });
});

describe('RemoveTaskEstimate', () => {
  it('removes an estimated task', () => {
    const { projectId, taskId, opened, registered, estimated } = fixture();
    given(estimateDecider, [opened, registered, estimated])
      .when({ type: 'RemoveTaskEstimate', data: { projectId, taskId } })
      .then({ type: 'TaskEstimateRemoved', data: { projectId, taskId } });
  });

  it('removes a task never estimated, even before the estimate is opened', () => {
    const { projectId, taskId, registered } = fixture();
    given(estimateDecider, [registered])
      .when({ type: 'RemoveTaskEstimate', data: { projectId, taskId } })
      .then({ type: 'TaskEstimateRemoved', data: { projectId, taskId } });
  });

  it('removes a task not registered yet, whose RegisterTask the reactor is still retrying', () => {
    const { projectId, taskId, opened } = fixture();
    given(estimateDecider, [opened])
      .when({ type: 'RemoveTaskEstimate', data: { projectId, taskId } })
      .then({ type: 'TaskEstimateRemoved', data: { projectId, taskId } });
  });

  it('then refuses the late RegisterTask and any estimate of that task', () => {
    const { projectId, taskId, opened, removed } = fixture();
    given(estimateDecider, [opened, removed])
      .when({ type: 'RegisterTask', data: { projectId, taskId } })
      .thenRejects('AlreadyExists');
    given(estimateDecider, [opened, removed])
      .when({ type: 'EstimateTask', data: { projectId, taskId, estimate } })
      .thenRejects('TaskNotFound');
  });

  it('rejects a task already removed', () => {
    const { projectId, taskId, opened, registered, removed } = fixture();
    given(estimateDecider, [opened, registered, removed])
      .when({ type: 'RemoveTaskEstimate', data: { projectId, taskId } })
      .thenRejects('TaskNotFound');
  });

  it('rejects on an archived estimate', () => {
    const { projectId, taskId, opened, registered, archived } = fixture();
    given(estimateDecider, [opened, registered, archived])
      .when({ type: 'RemoveTaskEstimate', data: { projectId, taskId } })
      .thenRejects('EstimateArchived');
  });
});

describe('ArchiveEstimate', () => {
  it('archives an open estimate', () => {
    const { projectId, opened, registered, estimated } = fixture();
    given(estimateDecider, [opened, registered, estimated])
      .when({ type: 'ArchiveEstimate', data: { projectId } })
      .then({ type: 'EstimateArchived', data: { projectId } });
  });

  it('archives an estimate never opened', () => {
    const { projectId } = fixture();
    given(estimateDecider)
      .when({ type: 'ArchiveEstimate', data: { projectId } })
      .then({ type: 'EstimateArchived', data: { projectId } });
  });

  it('rejects an estimate already archived', () => {
    const { projectId, archived } = fixture();
    given(estimateDecider, [archived])
      .when({ type: 'ArchiveEstimate', data: { projectId } })
      .thenRejects('EstimateArchived');
  });
});

/** The state with its tasks in one object, as a reader sees them. */
const flat = (state: EstimateState) => ({ ...state, tasks: allTasks(state) });

/** Evolves by one event, checked against its contract first. */
const evolveBy = (state: EstimateState, draft: DraftOf<EstimateEvent>) =>
  estimateDecider.evolve(
    state,
    estimateDecider.events.parse(envelope(draft.type, draft.data, { userId: null })) as EstimateEvent,
  );

describe('evolve', () => {
  it('keeps a thousand tasks as a flat model would, copying only the bucket an event changes', () => {
    const { projectId, opened } = fixture();
    const model = new Map<string, { removed: boolean; revision: number; estimate: unknown }>();
    let state = given(estimateDecider, [opened]).state;
    const ids = Array.from({ length: 1000 }, () => newId());
    const estimate = { optimistic: 1, likely: 2, pessimistic: 4 };
    for (const [i, taskId] of ids.entries()) {
      const before = state;
      const frozen = JSON.stringify(before);
      state = evolveBy(state, { type: 'TaskRegistered', data: { projectId, taskId } });
      model.set(taskId, { removed: false, revision: 0, estimate: null });
      if (i % 3 === 0) {
        state = evolveBy(state, {
          type: 'TaskEstimated',
          data: { projectId, taskId, estimate, revision: 1 },
        });
        model.set(taskId, { removed: false, revision: 1, estimate });
      }
      if (i % 7 === 0) {
        state = evolveBy(state, { type: 'TaskEstimateRemoved', data: { projectId, taskId } });
        model.set(taskId, { ...model.get(taskId)!, estimate: null, removed: true });
      }
      // pure: the state before is as it was, and every bucket the events did not touch is shared
      expect(JSON.stringify(before)).toBe(frozen);
      const shared = Object.keys(before.tasks).filter((b) => before.tasks[b] === state.tasks[b]);
      expect(shared.length).toBeGreaterThanOrEqual(Object.keys(before.tasks).length - 1);
    }
    expect(allTasks(state)).toEqual(Object.fromEntries(model));
    for (const id of ids) expect(taskOf(state, id)).toEqual(model.get(id));
    expect(taskOf(state, newId())).toBeUndefined();
    expect(Object.keys(state.tasks).length).toBeLessThanOrEqual(16);
  });

  it('folds the whole life of an estimate', () => {
    const { projectId, ownerId, teamId, taskId, opened, registered, estimated, archived } = fixture();
    const other = newId();
    const rateSet = { type: 'RateSet' as const, data: { projectId, hourlyRate: 9500, currency: 'EUR' } };
    const { state } = given(estimateDecider, [
      registered,
      opened,
      { type: 'TaskRegistered', data: { projectId, taskId: other } },
      rateSet,
      estimated,
      { type: 'TaskEstimateRemoved', data: { projectId, taskId: other } },
      archived,
    ]);
    expect(flat(state)).toEqual({
      status: 'archived',
      ownerId,
      teamId,
      rate: { hourlyRate: 9500, currency: 'EUR' },
      tasks: {
        [taskId]: { removed: false, revision: 1, estimate },
        [other]: { removed: true, revision: 0, estimate: null },
      },
    });
  });

  it('archives an initial estimate with its tasks and no owner', () => {
    const { taskId, registered, archived } = fixture();
    expect(flat(given(estimateDecider, [registered, archived]).state)).toEqual({
      status: 'archived',
      ownerId: null,
      teamId: null,
      rate: null,
      tasks: { [taskId]: { removed: false, revision: 0, estimate: null } },
    });
  });

  it('ignores recorded rejections', () => {
    const { opened } = fixture();
    const rejected = {
      type: 'CommandRejected' as const,
      data: { commandId: newId(), commandType: 'SetRate', reason: 'NotFound' as const, message: 'no' },
    };
    const before = given(estimateDecider, [opened]).state;
    expect(given(estimateDecider, [opened, rejected]).state).toEqual(before);
  });
});
