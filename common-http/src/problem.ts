import type { ErrorRequestHandler, RequestHandler } from 'express';
import { z } from 'zod';
import { issuesOf, ValidationError, type Logger } from '@devpie/client-events';

export interface FieldIssue {
  path: string;
  message: string;
}

/** An HTTP error as RFC 9457 problem details; thrown anywhere, rendered once by `problemHandler`. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly extra: { errors?: FieldIssue[]; reason?: string; [k: string]: unknown } = {},
  ) {
    super(detail ?? title);
    this.name = 'HttpProblem';
  }
}

export const badRequest = (detail: string, errors: FieldIssue[]) =>
  new HttpProblem(400, 'Invalid request', detail, { errors });
export const unauthorized = (detail = 'A valid bearer token is required') =>
  new HttpProblem(401, 'Unauthorized', detail);
export const forbidden = (detail = 'You may not do this') => new HttpProblem(403, 'Forbidden', detail);
export const notFound = (detail = 'No such resource') => new HttpProblem(404, 'Not Found', detail);

/** Parses a request part with a zod schema; on failure a 400 naming every field at fault. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where = 'body'): z.output<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  throw badRequest(`The ${where} is not valid`, issuesOf(result.error, where));
}

export const notFoundHandler: RequestHandler = (req, _res, next) =>
  next(notFound(`No route for ${req.method} ${req.path}`));

/** The one place errors become responses: `application/problem+json`, never a stack trace. */
export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, next) => {
    void next;
    let problem: HttpProblem;
    if (err instanceof HttpProblem) problem = err;
    else if (err instanceof ValidationError) problem = badRequest(err.message, err.issues);
    else if (err?.type === 'entity.parse.failed')
      problem = badRequest('The body is not valid JSON', [{ path: 'body', message: String(err.message) }]);
    else if (err?.type === 'entity.too.large')
      problem = new HttpProblem(413, 'Payload Too Large', `The body exceeds ${err.limit} bytes`);
    else if (err?.type === 'charset.unsupported' || err?.type === 'encoding.unsupported')
      problem = new HttpProblem(415, 'Unsupported Media Type', String(err.message));
    else {
      (req.log ?? logger).error({ err }, 'unhandled error');
      problem = new HttpProblem(500, 'Internal Server Error', 'Something went wrong on our side');
    }
    res
      .status(problem.status)
      .type('application/problem+json')
      .json({
        type: problem.extra.reason ? `urn:devpie:problem:${problem.extra.reason}` : 'about:blank',
        title: problem.title,
        status: problem.status,
        detail: problem.detail,
        instance: req.originalUrl,
        ...problem.extra,
      });
  };
}
