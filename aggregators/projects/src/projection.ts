import {
  projectEvents,
  teamEvents,
  type ProjectEvent,
  type Projection,
  type TeamEvent,
} from '@devpie/client-events';
import { boardTouches, foldBoard } from './board-view';
import { foldMember, memberTouches } from './member-view';
import { projectsTables } from './tables';

/** Project boards, and the team memberships that decide who may see them. */
export const projectsProjection: Projection = {
  name: 'projects',
  schema: 'projects',
  tables: projectsTables,
  categories: ['projects', 'teams'],
  ownCategories: ['projects'],
  events: [projectEvents, teamEvents],
  // CommandRejected is in both sets and touches nothing, so either side may take it
  touches(event) {
    if (projectEvents.has(event.type)) return boardTouches(event as ProjectEvent);
    if (teamEvents.has(event.type)) return memberTouches(event as TeamEvent);
    return [];
  },
  fold(rows, event, position) {
    if (projectEvents.has(event.type)) return foldBoard(rows, event as ProjectEvent, position);
    if (teamEvents.has(event.type)) return foldMember(rows, event as TeamEvent);
    return [];
  },
};
