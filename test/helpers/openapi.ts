/**
 * Checks an answer of the local server against `docs/openapi.json`, so the document cannot drift
 * from what the server says: the status must be one the operation documents, the content type
 * the one documented for it, the JSON body valid against its schema (ajv, JSON Schema 2020-12),
 * and the headers it marks required present. Validators are compiled once per process, lazily.
 *
 * A request no operation takes is held to the contract of `route-fallback`: an error body with
 * 404 (unknown path) or 405 (known path, other method), or an answer of the chain that runs first.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { METHODS, type IncomingHttpHeaders } from 'node:http';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { OPENAPI_FILE } from '../../lambdas/http/openapi.js';

interface MediaType {
  readonly schema?: Record<string, unknown>;
}
interface Response {
  readonly content?: Record<string, MediaType>;
  readonly headers?: Record<string, { readonly $ref: string }>;
}
/** A response, or a reference to one of `components.responses`. */
type ResponseOrRef = Response | { readonly $ref: string };
interface Document {
  readonly paths: Record<string, Record<string, { readonly responses: Record<string, ResponseOrRef> }>>;
  readonly components: {
    readonly responses: Record<string, Response>;
    readonly headers: Record<string, { readonly required?: boolean }>;
  };
}

/** Served by the local server only (`local/widget-routes.ts`), not part of the API. */
const LOCAL_ONLY = new Set(['/widget.js', '/demo', '/demo/token']);
/** What the chain can answer before `route-fallback` decides 404 or 405 (CORS, body, duplicate query). */
const FALLBACK_STATUSES = new Set([400, 403, 404, 405, 413, 500]);

const DOCUMENT_ID = 'openapi.json';
const document = JSON.parse(readFileSync(resolve(import.meta.dirname, '../..', OPENAPI_FILE), 'utf8')) as Document;
// Not strict: the document carries OpenAPI keywords (`description`, `contentMediaType`) ajv need not know.
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats.default(ajv);
ajv.addSchema(document, DOCUMENT_ID);

const templates = Object.keys(document.paths).map((template) => ({
  template,
  pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
}));
const validators = new Map<string, ValidateFunction>();

/** The JSON pointer escape of one reference token (RFC 6901). */
const escape = (token: string): string => token.replace(/~/g, '~0').replace(/\//g, '~1');

/** The compiled validator of the schema at `pointer` in the document, compiled on first use. */
function validatorAt(pointer: string[]): ValidateFunction {
  const ref = `${DOCUMENT_ID}#/${pointer.map(escape).join('/')}`;
  let validate = validators.get(ref);
  if (!validate) {
    validate = ajv.compile({ $ref: ref });
    validators.set(ref, validate);
  }
  return validate;
}

const RESPONSE_REF = '#/components/responses/';

/** The response `documented` stands for, and its JSON pointer in the document (`at`, where it is written). */
function resolved(documented: ResponseOrRef, at: string[]): { response: Response; pointer: string[] } {
  if (!('$ref' in documented)) return { response: documented, pointer: at };
  if (!documented.$ref.startsWith(RESPONSE_REF))
    throw new Error(`docs/openapi.json: unexpected $ref ${documented.$ref}`);
  const name = documented.$ref.slice(RESPONSE_REF.length);
  const response = document.components.responses[name];
  if (!response) throw new Error(`docs/openapi.json: no response ${name}`);
  return { response, pointer: ['components', 'responses', name] };
}

/** The media type of a `Content-Type` value, without parameters. */
const mediaTypeOf = (headers: IncomingHttpHeaders): string | undefined =>
  headers['content-type']?.split(';')[0]?.trim().toLowerCase();

/** What a checked answer holds. */
export interface CheckedResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The body parsed as JSON, or undefined. */
  readonly json?: unknown;
  /** The body's text; undefined when the body is not read here (a stream), and then not checked. */
  readonly text?: string;
}

/**
 * Throws when the answer to `method target` is not one `docs/openapi.json` documents. A stream's
 * events are checked one by one with `checkStreamEvent`.
 */
export function checkResponse(method: string, target: string, response: CheckedResponse): void {
  const path = target.split('?')[0] ?? '';
  // Node's HTTP parser answers a method it does not know (400, no body) before the API sees it.
  if (LOCAL_ONLY.has(path) || !METHODS.includes(method)) return;
  const where = `${method} ${path} → ${response.status}`;
  const fail = (why: string) => {
    throw new Error(`docs/openapi.json does not describe ${where}: ${why} (body: ${response.text?.slice(0, 300)})`);
  };
  const template = templates.find(({ pattern }) => pattern.test(path))?.template;
  const operation = template === undefined ? undefined : document.paths[template]?.[method.toLowerCase()];
  if (template === undefined || operation === undefined) {
    if (!FALLBACK_STATUSES.has(response.status)) fail('a request no operation takes');
    if (
      method !== 'HEAD' &&
      response.text !== undefined &&
      !validatorAt(['components', 'schemas', 'ErrorBody'])(response.json)
    )
      fail('not an error body');
    return;
  }
  const written = operation.responses[String(response.status)];
  if (!written) return fail(`undocumented status; documented: ${Object.keys(operation.responses).join(', ')}`);
  const at = ['paths', template, method.toLowerCase(), 'responses', String(response.status)];
  const { response: documented, pointer } = resolved(written, at);
  for (const [name, header] of Object.entries(documented.headers ?? {})) {
    const required = document.components.headers[header.$ref.split('/').pop() ?? '']?.required === true;
    if (required && response.headers[name.toLowerCase()] === undefined) fail(`header ${name} missing`);
  }
  const content = documented.content;
  if (!content) {
    if (response.text !== undefined && response.text !== '') fail('a body where none is documented');
    return;
  }
  const mediaType = mediaTypeOf(response.headers);
  if (mediaType === undefined || !(mediaType in content)) fail(`content type ${mediaType}`);
  if (mediaType !== 'application/json' || response.text === undefined || method === 'HEAD') return;
  const validate = validatorAt([...pointer, 'content', 'application/json', 'schema']);
  if (!validate(response.json)) fail(ajv.errorsText(validate.errors));
}

/** Throws when one `data:` event of the stream `target` answered is not its documented `contentSchema`. */
export function checkStreamEvent(target: string, event: unknown): void {
  const path = target.split('?')[0] ?? '';
  const template = templates.find(({ pattern }) => pattern.test(path))?.template ?? path;
  const pointer = ['paths', template, 'post', 'responses', '200', 'content', 'text/event-stream', 'schema'];
  const validate = validatorAt([...pointer, 'contentSchema']);
  if (!validate(event)) {
    throw new Error(`docs/openapi.json does not describe this event of ${path}: ${ajv.errorsText(validate.errors)}`);
  }
}

/** `checkResponse` for promise code: the error it would throw, or undefined. */
export function responseProblem(method: string, target: string, response: CheckedResponse): Error | undefined {
  try {
    checkResponse(method, target, response);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}
