/**
 * Step 8: validation with zod `.strict()` schemas for the body, the query string and the path
 * parameters. Every problem is returned in `error.details` as `{path, message}`; values are
 * never echoed. A query parameter given twice is refused (no parameter pollution).
 */
import type { MiddlewareObj } from '@middy/core';
import type { ZodType, z } from 'zod';
import { ValidationError, type ErrorDetail } from '../../lib/errors.js';
import type { AppRequest } from '../request.js';

export interface ValidateOptions {
  readonly body?: ZodType;
  readonly query?: ZodType;
  readonly params?: ZodType;
}

const MAX_DETAILS = 20;

function issuesOf(where: string, error: z.ZodError): ErrorDetail[] {
  return error.issues.flatMap((issue) => {
    const base = [where, ...issue.path.map(String)];
    const pathOf = (parts: string[]) => parts.map((part) => part.slice(0, 64)).join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: pathOf([...base, key]), message: 'is not an allowed field' }));
    }
    return [{ path: pathOf(base), message: issue.message }];
  });
}

/** Creates the validation middleware; results land in `context.app.input`. */
export function validate(options: ValidateOptions): MiddlewareObj {
  return {
    before: (request: AppRequest) => {
      const { event } = request;
      const details: ErrorDetail[] = [];
      const multi = event.multiValueQueryStringParameters ?? {};
      for (const [name, values] of Object.entries(multi)) {
        if ((values?.length ?? 0) > 1)
          details.push({ path: `query.${name.slice(0, 64)}`, message: 'must appear at most once' });
      }
      const parse = (where: string, schema: ZodType | undefined, value: unknown): unknown => {
        if (!schema) return undefined;
        const result = schema.safeParse(value);
        if (result.success) return result.data;
        details.push(...issuesOf(where, result.error));
        return undefined;
      };
      const body = parse('body', options.body, request.context.app.body);
      const query = parse('query', options.query, { ...event.queryStringParameters });
      const params = parse('path', options.params, { ...event.pathParameters });
      if (details.length > 0) {
        throw new ValidationError('The request is not valid.', details.slice(0, MAX_DETAILS));
      }
      request.context.app.input = { body, query, params };
    },
  } as MiddlewareObj;
}
