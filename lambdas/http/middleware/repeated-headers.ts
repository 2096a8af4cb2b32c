/**
 * Repeated security-relevant request headers. Hosts disagree on which copy of a repeated header
 * counts (Node keeps the first `Authorization`, API Gateway keeps the last in `headers` and all of
 * them in `multiValueHeaders`), so a request that carries one of these headers more than once
 * with different values is refused with 400 `VALIDATION_FAILED` before anything reads it
 * (CORS, authentication, the body parser). The decision is taken from `multiValueHeaders`, which
 * API Gateway REST proxy events and the local adapter both fill with every copy. Identical
 * repeats are harmless and pass.
 */
import type { MiddlewareObj } from '@middy/core';
import { ValidationError } from '../../lib/errors.js';
import type { AppRequest } from '../request.js';

/** The headers whose value decides who the caller is, where it comes from, or how the body is read. */
export const SINGLE_VALUED_HEADERS = [
  'authorization',
  'x-widget-api-key',
  'origin',
  'content-type',
  'idempotency-key',
  'cookie',
] as const;

/**
 * Merges `multiValueHeaders` names that differ only in case (`Authorization` and `authorization`)
 * into one lower-cased entry holding every value. Runs before the header normalizer, which keeps
 * one key per lower-cased name and would otherwise drop the other copies unseen.
 */
export function mergeHeaderCase(): MiddlewareObj {
  return {
    before: (request: AppRequest) => {
      const multi = request.event.multiValueHeaders;
      if (!multi) return;
      const merged = new Map<string, string[]>();
      for (const [name, values] of Object.entries(multi)) {
        const lower = name.toLowerCase();
        merged.set(lower, [...(merged.get(lower) ?? []), ...(values ?? [])]);
      }
      if (merged.size === Object.keys(multi).length) return;
      request.event.multiValueHeaders = Object.fromEntries(merged);
    },
  } as MiddlewareObj;
}

/** Creates the middleware that refuses conflicting copies of `SINGLE_VALUED_HEADERS` (lower-cased names expected). */
export function repeatedHeaders(): MiddlewareObj {
  return {
    before: (request: AppRequest) => {
      const multi = request.event.multiValueHeaders ?? {};
      const details = SINGLE_VALUED_HEADERS.filter((name) => new Set(multi[name] ?? []).size > 1).map((name) => ({
        path: `headers.${name}`,
        message: 'must not be sent more than once with different values',
      }));
      if (details.length > 0) throw new ValidationError('The request is not valid.', details);
    },
  } as MiddlewareObj;
}
