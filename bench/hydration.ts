/** 6. Hydration: load + decide on a project with a long history, cold and warm. */
import {
  buildComponent,
  createLogger,
  DEFAULT_COLUMNS,
  EntityStore,
  envelope,
  newId,
  type ProjectCommand,
} from '@devpie/client-events';
import type { TestEnv } from '@devpie/client-events/testing/servers';
import { projectDecider } from '@devpie/projects-component';
import { fmt, rate, seconds, sleep, type Rate } from './ceilings';
import { CONTENT } from './mix';
import type { Options } from './options';
import { percentiles, type Percentiles } from './percentiles';

export interface HydrationResult {
  priorEvents: number;
  build: Rate;
  snapshotEvery: number;
  coldMs: Percentiles;
  warmMs: Percentiles;
}

export async function hydration(env: TestEnv, opts: Options): Promise<HydrationResult> {
  const logger = createLogger('bench-hydration', process.env.LOG_LEVEL ?? 'warn');
  const component = buildComponent({
    messaging: env.messaging,
    decider: projectDecider,
    name: 'bench-hydration',
    logger,
  });
  const ownerId = newId();
  const projectId = newId();
  const columns = DEFAULT_COLUMNS.map((title) => ({ columnId: newId(), title }));
  const origin = { userId: ownerId };
  const cmd = (c: ProjectCommand) => c;
  await component.handle(
    cmd(
      envelope(
        'AddProject',
        {
          projectId,
          name: 'Hydration',
          description: 'long history',
          teamId: null,
          prefix: 'H',
          public: false,
          columns,
        },
        origin,
      ),
    ),
  );
  const taskId = newId();
  await component.handle(
    cmd(
      envelope(
        'AddTask',
        {
          projectId,
          columnId: columns[0]!.columnId,
          taskId,
          title: 'A busy task',
          content: CONTENT,
          assigneeId: null,
        },
        origin,
      ),
    ),
  );
  console.error(`hydration: ${fmt(opts.hydrationEvents)} events on one project…`);
  const t = performance.now();
  for (let i = 2; i < opts.hydrationEvents; i++) {
    const c =
      i % 2 === 0
        ? envelope('ModifyTask', { projectId, taskId, changes: { title: `Busy ${i}` } }, origin)
        : envelope(
            'MoveTask',
            { projectId, taskId, toColumnId: columns[i % columns.length]!.columnId, index: 0 },
            origin,
          );
    const r = await component.handle(cmd(c));
    if (r.outcome !== 'accepted') throw new Error(`hydration setup: ${c.type} ${r.outcome}`);
  }
  const build = rate(opts.hydrationEvents, seconds(t));
  await sleep(500); // the last snapshot is written in the background
  const probe = () =>
    envelope('ModifyTask', { projectId, taskId, changes: { title: 'probe' } }, origin) as ProjectCommand;
  const decideOn = async (store: EntityStore<ReturnType<typeof projectDecider.initialState>>) => {
    const t0 = performance.now();
    const entity = await store.load(projectId);
    projectDecider.decide(probe(), entity.state);
    return performance.now() - t0;
  };
  const cold: number[] = [];
  const warm: number[] = [];
  const rounds = opts.quick ? 5 : 11;
  for (let r = 0; r < rounds; r++) {
    const store = new EntityStore(env.messaging, projectDecider as never) as EntityStore<
      ReturnType<typeof projectDecider.initialState>
    >;
    cold.push(await decideOn(store));
    for (let w = 0; w < 20; w++) warm.push(await decideOn(store));
  }
  return {
    priorEvents: opts.hydrationEvents,
    build,
    snapshotEvery: 200,
    coldMs: percentiles(cold),
    warmMs: percentiles(warm),
  };
}
