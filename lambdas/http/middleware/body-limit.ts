/**
 * Step 4: the body. Every body is held to `MAX_BODY_BYTES` (413). Routes that take a body
 * accept only `application/json` (optionally `charset=utf-8`; 415 otherwise) that is valid
 * UTF-8 and valid JSON (400 `INVALID_JSON`).
 */
import type { MiddlewareObj } from '@middy/core';
import { InvalidJsonError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../../lib/errors.js';
import type { AppRequest } from '../request.js';

const JSON_TYPE = /^application\/json\s*(?:;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export interface BodyLimitOptions {
  readonly maxBytes: number;
  /** Whether this route takes a JSON body. */
  readonly json: boolean;
}

/** Creates the body middleware. */
export function bodyLimit(options: BodyLimitOptions): MiddlewareObj {
  if (!Number.isSafeInteger(options.maxBytes) || options.maxBytes < 1)
    throw new TypeError('bodyLimit: maxBytes must be a positive integer');
  return {
    before: (request: AppRequest) => {
      const { event } = request;
      const raw = event.body ?? '';
      const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
      if (bytes.length > options.maxBytes) throw new PayloadTooLargeError(options.maxBytes);
      if (!options.json) return;
      const contentType = event.headers?.['content-type'];
      if (contentType === undefined || !JSON_TYPE.test(contentType.trim())) throw new UnsupportedMediaTypeError();
      let text: string;
      try {
        text = utf8.decode(bytes);
      } catch (error) {
        throw new InvalidJsonError({ cause: error });
      }
      try {
        request.context.app.body = JSON.parse(text) as unknown;
      } catch (error) {
        throw new InvalidJsonError({ cause: error });
      }
    },
  } as MiddlewareObj;
}
