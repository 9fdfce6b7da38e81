import { Router } from 'express';
import { principalOf } from '@devpie/http-kit';
import { PROJECTS, TEAM_MEMBERS, teamMemberId } from '@devpie/projects-aggregator';
import type { Logger } from '@devpie/client-events';
import { accessOf } from '../access';
import type { LiveBoards } from '../live';
import type { ProjectsViews } from '../views';
import { projectToRead, toProject } from './shared';

export interface LiveDeps {
  views: ProjectsViews;
  live: LiveBoards;
  heartbeatMs: number;
  logger: Logger;
}

/**
 * `GET /projects/:projectId/live`: Server-Sent Events. First the project as the view shows it, then
 * the project again after each aggregator commit that changed it (`event: project`, `id:` its
 * version). `event: deleted` when it is destroyed and `event: revoked` when the caller loses
 * access, after which the stream ends. A comment line every `heartbeatMs` keeps proxies from
 * closing an idle stream; each heartbeat also re-reads the version, so a lost notice (core NATS
 * is best effort) delays an update by one heartbeat at most.
 */
export function liveRoutes({ views, live, heartbeatMs, logger }: LiveDeps): Router {
  const router = Router();

  router.get('/projects/:projectId/live', async (req, res) => {
    const { userId } = principalOf(res.locals);
    const { project } = await projectToRead(views, req, userId);
    const projectId = project.id;
    // the client may have gone while access was checked: then 'close' has fired already
    if (!res.socket || res.socket.destroyed) return;

    res.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    res.write('retry: 3000\n\n');

    let closed = false;
    let sentVersion = 0;
    let reading = false;
    let readAgain = false;
    const send = (event: string, data: unknown, id?: number) => {
      res.write(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const end = () => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      unwatch();
      res.end();
    };

    /** Reads the row once more and sends it if it is newer than what the client has. */
    const refresh = async () => {
      if (reading) {
        readAgain = true;
        return;
      }
      reading = true;
      try {
        do {
          readAgain = false;
          const found = await views.projectFor(projectId, userId);
          if (closed) return;
          if (!found) {
            send('deleted', { id: projectId });
            return end();
          }
          const access = accessOf(found.project, userId, found.role);
          if (!access) {
            send('revoked', { id: projectId });
            return end();
          }
          if (found.project.version > sentVersion) {
            sentVersion = found.project.version;
            send('project', toProject(found.project, access), sentVersion);
          }
        } while (readAgain && !closed);
      } catch (err) {
        req.log?.warn({ err }, 'live update not read; the next notice or heartbeat retries');
      } finally {
        reading = false;
      }
    };

    const rows = [{ table: PROJECTS, id: projectId }];
    if (project.teamId) rows.push({ table: TEAM_MEMBERS, id: teamMemberId(project.teamId, userId) });
    // watch before the first read: a commit in between is then read again, never missed
    const unwatch = live.watch(rows, () => void refresh(), end);
    const heartbeat = setInterval(() => {
      res.write(': heartbeat\n\n');
      void refresh();
    }, heartbeatMs);
    res.on('close', end);
    res.on('error', (err) => logger.debug({ err }, 'live stream broke'));
    await refresh();
  });

  return router;
}
