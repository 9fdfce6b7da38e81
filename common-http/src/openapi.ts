import { z } from 'zod';

export interface Operation {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Express-style path under the server URL, e.g. `/api/v1/teams/:teamId/memberships`. */
  path: string;
  summary: string;
  /** The very schema the route validates its body with. */
  body?: z.ZodType;
  /** Response status codes with a one-line description. */
  responses: Record<number, string>;
  auth?: boolean;
  /** Honours `Prefer: wait` and `Idempotency-Key`. */
  write?: boolean;
}

const toJson = (schema: z.ZodType) => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return rest;
};

const problem = {
  description: 'Problem details (RFC 9457)',
  content: {
    'application/problem+json': {
      schema: {
        type: 'object',
        properties: {
          type: { type: 'string' },
          title: { type: 'string' },
          status: { type: 'integer' },
          detail: { type: 'string' },
          reason: { type: 'string', description: 'rejection reason code' },
          errors: {
            type: 'array',
            items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } },
          },
        },
      },
    },
  },
};

/** An OpenAPI 3.1 document built from the zod schemas the app validates with. */
export function openApiDocument(
  info: { title: string; version: string; description?: string },
  operations: Operation[],
) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    const path = op.path.replace(/:([A-Za-z]+)/g, '{$1}');
    const params = [...op.path.matchAll(/:([A-Za-z]+)/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    const headers = op.write
      ? [
          { name: 'Prefer', in: 'header', schema: { type: 'string', example: 'wait=5' } },
          { name: 'Idempotency-Key', in: 'header', schema: { type: 'string', maxLength: 255 } },
        ]
      : [];
    const responses: Record<string, unknown> = {};
    for (const [status, description] of Object.entries(op.responses)) {
      responses[status] = Number(status) >= 400 ? { ...problem, description } : { description };
    }
    (paths[path] ??= {})[op.method] = {
      summary: op.summary,
      parameters: [...params, ...headers],
      ...(op.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: toJson(op.body) } } } }
        : {}),
      responses,
      ...(op.auth === false ? { security: [] } : {}),
    };
  }
  return {
    openapi: '3.1.0',
    info,
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    security: [{ bearer: [] }],
    paths,
  };
}
