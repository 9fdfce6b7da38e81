import { openApiDocument, type Operation } from '@devpie/http-kit';
import { columnBody, moveBody, taskBody, taskPatch } from './routes/board';
import { newProject, projectPatch } from './routes/projects';

const write = (
  method: Operation['method'],
  path: string,
  summary: string,
  body: Operation['body'],
  done: number,
): Operation => ({
  method,
  path,
  summary,
  body,
  write: true,
  responses: {
    [done]: done === 204 ? 'done' : 'the project view (with Prefer: wait)',
    202: '{commandId, id}',
    400: 'invalid body, naming the field',
    403: 'you may read but not change this project',
    404: 'no such project (or not visible to you)',
    422: 'rejected, with a reason code',
  },
});

const operations: Operation[] = [
  {
    method: 'get',
    path: '/api/v1/projects',
    summary: 'My projects and my teams’ projects (cursor, active, sort=name|updated)',
    responses: { 200: '{items, next}', 400: 'invalid query' },
  },
  write('post', '/api/v1/projects', 'Add a project (with the default columns)', newProject, 201),
  {
    method: 'get',
    path: '/api/v1/projects/:projectId',
    summary: 'A board: columns in order, each with its tasks in order',
    responses: { 200: 'project', 404: 'no such project (or not visible to you)' },
  },
  write(
    'patch',
    '/api/v1/projects/:projectId',
    'Change name, description, active, public, column order',
    projectPatch,
    200,
  ),
  write('delete', '/api/v1/projects/:projectId', 'Destroy a project', undefined, 204),
  write('post', '/api/v1/projects/:projectId/columns', 'Add a column', columnBody, 201),
  write('patch', '/api/v1/projects/:projectId/columns/:columnId', 'Rename a column', columnBody, 200),
  write('delete', '/api/v1/projects/:projectId/columns/:columnId', 'Destroy an empty column', undefined, 204),
  write('post', '/api/v1/projects/:projectId/columns/:columnId/tasks', 'Add a task', taskBody, 201),
  write('patch', '/api/v1/projects/:projectId/tasks/:taskId', 'Change a task', taskPatch, 200),
  write('patch', '/api/v1/projects/:projectId/tasks/:taskId/move', 'Move a task', moveBody, 200),
  write('delete', '/api/v1/projects/:projectId/tasks/:taskId', 'Destroy a task', undefined, 204),
  {
    method: 'get',
    path: '/api/v1/projects/:projectId/live',
    summary: 'Server-Sent Events: the project view now and after each change',
    responses: { 200: 'text/event-stream', 404: 'no such project (or not visible to you)' },
  },
  {
    method: 'get',
    path: '/api/v1/commands/:commandId',
    summary: "A command's status: pending, accepted or rejected (with reason)",
    responses: { 200: 'status', 404: 'unknown (or not mine)' },
  },
];

export const projectsOpenApi = openApiDocument(
  { title: 'Devpie Projects', version: '1.0.0', description: 'Kanban projects, columns and tasks' },
  operations,
);
