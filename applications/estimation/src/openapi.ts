import { openApiDocument, type Operation } from '@devpie/http-kit';
import { estimateBody, rateBody } from './routes/estimates';

const estimate = '/api/v1/estimates/projects/:projectId';

const operations: Operation[] = [
  {
    method: 'get',
    path: estimate,
    summary: "A project's estimate: one line per task, totals, the 95 % range and the cost at the rate",
    responses: { 200: 'estimate', 404: 'no such project (or not yours to see)' },
  },
  {
    method: 'get',
    path: `${estimate}/history`,
    summary: 'Every change to the estimate (rates, task estimates, removals) with who and when',
    responses: { 200: '{items}', 404: 'no such project (or not yours to see)' },
  },
  {
    method: 'put',
    path: `${estimate}/rate`,
    summary: 'Set the hourly rate: hourlyRate in major units (decimal string or number), ISO 4217 currency',
    body: rateBody,
    write: true,
    responses: {
      200: 'estimate (with Prefer: wait)',
      202: '{commandId, id}',
      400: 'invalid body (the field is named)',
      403: 'a team viewer or commenter',
      404: 'no such project, or its estimate is not open yet',
      422: 'EstimateArchived',
    },
  },
  {
    method: 'put',
    path: `${estimate}/tasks/:taskId`,
    summary: 'Estimate a task in hours (optimistic ≤ likely ≤ pessimistic); replaces the previous estimate',
    body: estimateBody,
    write: true,
    responses: {
      200: 'estimate (with Prefer: wait)',
      202: '{commandId, id}',
      400: 'invalid body (the field is named)',
      403: 'a team viewer or commenter',
      404: 'no such project or task',
      422: 'TaskNotFound, EstimateArchived',
    },
  },
  {
    method: 'get',
    path: '/api/v1/commands/:commandId',
    summary: "A command's status: pending, accepted or rejected (with reason)",
    responses: { 200: 'status', 404: 'unknown (or not mine)' },
  },
];

export const estimationOpenApi = openApiDocument(
  {
    title: 'Devpie Estimation',
    version: '1.0.0',
    description: 'Three-point task estimates, hourly rates and project quotes',
  },
  operations,
);
