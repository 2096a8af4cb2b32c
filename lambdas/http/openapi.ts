/**
 * The OpenAPI 3.1 document of the API, derived from the route table (`routes.ts`), its zod
 * schemas (zod 4's own `z.toJSONSchema`), the error codes (`errors.ts`) and the wire contract
 * (`contract.ts`). `npm run openapi` writes it to `docs/openapi.json`; a unit test fails when the
 * committed file is stale, and the end-to-end suite checks every answer it gets against it.
 *
 * Which errors a route can answer is not written per route: it follows from the route's facts,
 * by the rule in `errorCodesOf`. Only what a handler raises on its own is listed in the table
 * (`errors`), so a new route is documented completely by its entry.
 */
import * as z from 'zod';
import type { ZodType } from 'zod';
import { ERROR_CODES, type ErrorCode } from '../lib/errors.js';
import * as requestSchemas from '../lib/schemas.js';
import { securityHeaderTable, WAF_SECURITY_HEADERS } from './contract.js';
import { KEY_PATTERN } from './idempotency.js';
import * as responseSchemas from './response-schemas.js';
import { ROUTES, type Route } from './routes.js';

/** Where `npm run openapi` writes the document, relative to the repository root. */
export const OPENAPI_FILE = 'docs/openapi.json';

type Json = Record<string, unknown>;

/** The document as committed: two-space JSON and a final newline. */
export const serializeOpenApi = (document: unknown): string => `${JSON.stringify(document, null, 2)}\n`;

/** The HTTP status of each error code (`errors.ts`; `BAD_REQUEST` is API Gateway's own). */
const STATUS_OF: Readonly<Record<ErrorCode, number>> = {
  BAD_REQUEST: 400,
  INVALID_JSON: 400,
  VALIDATION_FAILED: 400,
  CHALLENGE_FAILED: 400,
  UNAUTHORIZED: 401,
  TOKEN_EXPIRED: 401,
  FORBIDDEN: 403,
  ORIGIN_NOT_ALLOWED: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  IDEMPOTENCY_IN_PROGRESS: 409,
  KEY_LIMIT_REACHED: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  IDEMPOTENCY_KEY_REUSED: 422,
  RATE_LIMIT_EXCEEDED: 429,
  INTERNAL_ERROR: 500,
  UPSTREAM_ERROR: 502,
  SERVICE_UNAVAILABLE: 503,
  BUDGET_EXCEEDED: 429,
  CHAT_PAUSED: 503,
};

/**
 * The error codes the chain (`handler.ts`) and the handler can answer for `route`, from its facts:
 * - every route: `ORIGIN_NOT_ALLOWED` (CORS runs first), `PAYLOAD_TOO_LARGE` (every body is held
 *   to `MAX_BODY_BYTES`), `VALIDATION_FAILED` (a query parameter given twice, and the route's
 *   schemas), `INTERNAL_ERROR`;
 * - a JSON body: `UNSUPPORTED_MEDIA_TYPE`, `INVALID_JSON`;
 * - any credential: `UNAUTHORIZED`, `RATE_LIMIT_EXCEEDED` (its tiers and the failed-authentication
 *   lockout), `SERVICE_UNAVAILABLE` (secrets, keys, revocations and counters fail closed);
 * - widget routes: `TOKEN_EXPIRED` (a presented token is always verified, required or not);
 * - a role: `FORBIDDEN` (a valid bearer key without it);
 * - path parameters: `NOT_FOUND` (the resource they name does not exist or is not the caller's);
 * - a metered (chat) route: `BUDGET_EXCEEDED` and `CHAT_PAUSED` (design §12);
 * - the route's own `errors` (what its handler raises: idempotency, the model, key limits);
 * - deployed, API Gateway and AWS WAF answer before any Lambda on every route: `BAD_REQUEST`,
 *   `FORBIDDEN` (WAF block), `PAYLOAD_TOO_LARGE`, `RATE_LIMIT_EXCEEDED` (WAF rate rules) and
 *   `SERVICE_UNAVAILABLE` (`lib/constructs/api.ts`, `lib/constructs/waf.ts`).
 */
export function errorCodesOf(route: Route): ErrorCode[] {
  const codes = new Set<ErrorCode>(['ORIGIN_NOT_ALLOWED', 'PAYLOAD_TOO_LARGE', 'VALIDATION_FAILED', 'INTERNAL_ERROR']);
  const add = (...more: ErrorCode[]) => more.forEach((code) => codes.add(code));
  if (route.body) add('UNSUPPORTED_MEDIA_TYPE', 'INVALID_JSON');
  if (route.auth !== 'none') add('UNAUTHORIZED', 'RATE_LIMIT_EXCEEDED', 'SERVICE_UNAVAILABLE');
  if (route.auth === 'widget') add('TOKEN_EXPIRED');
  if (route.role) add('FORBIDDEN');
  if (route.params) add('NOT_FOUND');
  if (route.metered) add('BUDGET_EXCEEDED', 'CHAT_PAUSED');
  add(...(route.errors ?? []));
  add('BAD_REQUEST', 'FORBIDDEN', 'RATE_LIMIT_EXCEEDED', 'SERVICE_UNAVAILABLE');
  return ERROR_CODES.filter((code) => codes.has(code));
}

/** The error codes of a CORS preflight (`OPTIONS` on a route's path, `route-fallback.ts`). */
const PREFLIGHT_CODES: readonly ErrorCode[] = ['ORIGIN_NOT_ALLOWED', 'PAYLOAD_TOO_LARGE', 'INTERNAL_ERROR'];

/** An operation's id, the camel case of its method and path: `POST /v1/admin/keys` → `postV1AdminKeys`. */
function operationIdOf(route: Pick<Route, 'path'> & { readonly method: string }): string {
  const words = [route.method.toLowerCase(), ...route.path.split(/[^A-Za-z0-9]+/).filter(Boolean)];
  return words.map((word, i) => (i === 0 ? word : word[0]!.toUpperCase() + word.slice(1))).join('');
}

/** `chatRequestSchema` → `ChatRequest`: a component's name from the schema's export name. */
const componentName = (exportName: string): string =>
  exportName.replace(/Schema$/, '').replace(/^./, (first) => first.toUpperCase());

/** Every zod schema a module exports, by component name, so shared shapes become `$ref`s. */
function exported(module: Readonly<Record<string, unknown>>): Map<ZodType, string> {
  const names = new Map<ZodType, string>();
  for (const [name, value] of Object.entries(module)) {
    if (value instanceof z.ZodType && name.endsWith('Schema')) names.set(value, componentName(name));
  }
  return names;
}

/** JSON Schema of `schema` as a request (`input`: defaults optional) or a response (`output`) reads it. */
function jsonSchema(schema: ZodType, io: 'input' | 'output'): Json {
  const out = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Json;
  delete out.$schema;
  return out;
}

/**
 * The components of every body schema: the named exports of `schemas.ts` (requests) and
 * `response-schemas.ts` (responses), plus any route schema defined elsewhere, named after its route.
 */
function componentSchemas(): { schemas: Json; refOf: (schema: ZodType) => Json } {
  const uri = (id: string) => `#/components/schemas/${id}`;
  const schemas: Json = {};
  const names = new Map<ZodType, string>();
  for (const [io, module, pick] of [
    ['input', requestSchemas, (route: Route) => route.body],
    ['output', responseSchemas, (route: Route) => route.response],
  ] as const) {
    const known = exported(module);
    const registry = z.registry<{ id: string }>();
    for (const [schema, id] of known) registry.add(schema, { id });
    for (const route of ROUTES) {
      const schema = pick(route);
      if (schema && !registry.has(schema)) {
        const id = componentName(`${operationIdOf(route)}${io === 'input' ? 'Request' : 'Response'}`);
        registry.add(schema, { id });
        known.set(schema, id);
      }
    }
    const out = z.toJSONSchema(registry, { io, uri, unrepresentable: 'any' }) as { schemas: Record<string, Json> };
    for (const [id, schema] of Object.entries(out.schemas)) {
      if (id in schemas) throw new Error(`openapi: two schemas are named ${id}`);
      delete schema.$schema;
      delete schema.id;
      schemas[id] = schema;
    }
    for (const [schema, id] of known) names.set(schema, id);
  }
  return {
    schemas,
    refOf: (schema) => {
      const id = names.get(schema);
      if (id === undefined) throw new Error('openapi: a route schema has no component');
      return { $ref: uri(id) };
    },
  };
}

const header = (description: string, schema: Json, required = false): Json => ({ description, required, schema });

/** Security headers AWS WAF's own 429 carries too, so every answer has them. */
const ON_EVERY_ANSWER = new Set(WAF_SECURITY_HEADERS);

/** Response headers, by name; each answer refers to those it carries. */
function componentHeaders(): Json {
  const headers: Json = {
    'X-Request-Id': header(
      "The request id: a well-formed one sent is echoed, else a UUID. On every answer of the Lambda chain, not on API Gateway's or AWS WAF's own.",
      { type: 'string' },
    ),
  };
  const development = securityHeaderTable(false);
  for (const [name, value] of Object.entries(securityHeaderTable(true))) {
    const schema = { type: 'string', const: value };
    if (!(name in development)) headers[name] = header('Security header, with `APP_ENV=production` only.', schema);
    else if (ON_EVERY_ANSWER.has(name)) headers[name] = header('Security header, on every answer.', schema, true);
    else
      headers[name] = header(
        "Security header (OWASP Secure Headers Project), on every answer but AWS WAF's own 429.",
        schema,
      );
  }
  const integer = { type: 'string', pattern: '^\\d+$' };
  Object.assign(headers, {
    'X-RateLimit-Limit': header('The limit of the tier with the least left.', integer),
    'X-RateLimit-Remaining': header('Requests left in that tier.', integer),
    'X-RateLimit-Reset': header('End of the current window, epoch seconds.', integer),
    'RateLimit-Policy': header('IETF RateLimit-Policy: every tier, e.g. `"ip";q=60;w=60`.', { type: 'string' }),
    RateLimit: header('IETF RateLimit: the tier with the least left, e.g. `"ip";r=12;t=31`.', { type: 'string' }),
    'Retry-After': header('Whole seconds to wait before retrying (at least 1).', integer, true),
    'WWW-Authenticate': header('The Bearer challenge (RFC 6750) of a refused bearer credential.', { type: 'string' }),
    'Access-Control-Allow-Origin': header('The request `Origin`, when it is allowed.', { type: 'string' }),
    Vary: header('Always includes `Origin`.', { type: 'string' }),
    Allow: header('The methods served on this path.', { type: 'string' }, true),
    'Idempotent-Replayed': header('`true` on the answer to a retried `Idempotency-Key`: the first answer again.', {
      type: 'string',
      enum: ['true'],
    }),
  });
  return headers;
}

const headerRef = (name: string): Json => ({ $ref: `#/components/headers/${name}` });

/** The headers of one answer of `route` (undefined: a preflight) with `status`. */
function headersOf(route: Route | undefined, status: number, codes: readonly ErrorCode[]): Json {
  const names = ['X-Request-Id', ...Object.keys(securityHeaderTable(true)), 'Access-Control-Allow-Origin', 'Vary'];
  if (route && route.auth !== 'none')
    names.push('X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset', 'RateLimit-Policy', 'RateLimit');
  if (status === 429 || codes.includes('IDEMPOTENCY_IN_PROGRESS')) names.push('Retry-After');
  if (status === 401) names.push('WWW-Authenticate');
  if (status === 405 || (route === undefined && status === 204)) names.push('Allow');
  return Object.fromEntries(names.map((name) => [name, headerRef(name)]));
}

/**
 * The answers many operations share (every error answer, and the preflight's 204), written once
 * under `components.responses` and referred to by `$ref`: the document would otherwise repeat each
 * one's headers in every operation.
 */
class SharedResponses {
  readonly #byName = new Map<string, Json>();

  /** A `$ref` to `response` named `name`; throws when the name already stands for another answer. */
  ref(name: string, response: Json): Json {
    const known = this.#byName.get(name);
    if (known === undefined) this.#byName.set(name, response);
    else if (JSON.stringify(known) !== JSON.stringify(response))
      throw new Error(`openapi: two answers are named ${name}`);
    return { $ref: `#/components/responses/${name}` };
  }

  /** The `components.responses` object, by name. */
  components(): Json {
    return Object.fromEntries([...this.#byName].sort(([a], [b]) => a.localeCompare(b)));
  }
}

/** `RATE_LIMIT_EXCEEDED` → `RateLimitExceeded`. */
const pascalCase = (code: string): string =>
  code
    .toLowerCase()
    .split('_')
    .map((word) => word[0]!.toUpperCase() + word.slice(1))
    .join('');

/**
 * The error answers for `codes`, one per status, each naming its codes: shared components named
 * after status and codes (`Error401-Unauthorized-TokenExpired`), `-Open` for an answer without the
 * rate-limit headers (a route or preflight that takes no credential).
 */
function errorResponses(route: Route | undefined, codes: readonly ErrorCode[], shared: SharedResponses): Json {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(STATUS_OF[code], [...(byStatus.get(STATUS_OF[code]) ?? []), code]);
  const open = route === undefined || route.auth === 'none';
  const responses: Json = {};
  for (const [status, these] of [...byStatus].sort(([a], [b]) => a - b)) {
    const name = [`Error${status}`, ...these.map(pascalCase), ...(open ? ['Open'] : [])].join('-');
    responses[String(status)] = shared.ref(name, {
      description: these.map((code) => `\`${code}\``).join(', '),
      headers: headersOf(route, status, these),
      content: {
        'application/json': {
          schema: {
            allOf: [
              { $ref: '#/components/schemas/ErrorBody' },
              { type: 'object', properties: { error: { type: 'object', properties: { code: { enum: these } } } } },
            ],
          },
        },
      },
    });
  }
  return responses;
}

/** The success answer of `route`: JSON, a server-sent-event stream, or nothing (204). */
function successResponse(route: Route, refOf: (schema: ZodType) => Json): Json {
  const base = { description: route.stream ? 'A stream of server-sent events.' : 'Success.' };
  const headers = {
    ...headersOf(route, route.status, []),
    ...(idempotent(route) ? { 'Idempotent-Replayed': headerRef('Idempotent-Replayed') } : {}),
  };
  if (!route.response) return { ...base, headers };
  if (!route.stream) return { ...base, headers, content: { 'application/json': { schema: refOf(route.response) } } };
  return {
    ...base,
    headers,
    content: {
      'text/event-stream': {
        schema: {
          type: 'string',
          description:
            'Server-sent events: each event is one `data:` line holding one JSON `contentSchema` and a blank line; the last is `done` or `error`.',
          contentSchema: refOf(route.response),
        },
      },
    },
  };
}

/** Who may call `route`: OpenAPI security requirements (the role as the bearer key's scope). */
function securityOf(route: Route): Json[] {
  switch (route.auth) {
    case 'none':
      return [];
    case 'widget':
      return route.token === 'required'
        ? [{ widgetKey: [], widgetToken: [] }]
        : [{ widgetKey: [] }, { widgetKey: [], widgetToken: [] }];
    case 'admin':
    case 'server':
      return [{ bearerKey: route.role ? [route.role] : [] }];
  }
}

/** Query or path parameters from an object schema's properties. */
function parametersOf(schema: ZodType | undefined, where: 'query' | 'path'): Json[] {
  if (!schema) return [];
  const object = jsonSchema(schema, 'input') as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(object.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || (object.required ?? []).includes(name),
    schema: property,
  }));
}

const CREDENTIAL: Readonly<Record<Route['auth'], string>> = {
  none: 'No credential.',
  widget: 'Widget key (`X-Widget-Api-Key`), and a widget token when required.',
  admin: 'A bearer key whose role covers the route.',
  server: 'A bearer key whose role covers the route.',
};

/** Whether `route` takes `Idempotency-Key` (its answers name the idempotency errors). */
const idempotent = (route: Route): boolean => errorCodesOf(route).includes('IDEMPOTENCY_KEY_REUSED');

/** The `Idempotency-Key` request header (docs/api.md "Idempotency-Key"). */
const IDEMPOTENCY_KEY: Json = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'A fresh random value per message, the same on every retry of it: a retry of an answered turn gets the first answer again (`Idempotent-Replayed: true`); kept 24 hours.',
  schema: { type: 'string', pattern: KEY_PATTERN.source },
};

/** One operation of the table. */
function operationOf(route: Route, refOf: (schema: ZodType) => Json, shared: SharedResponses): Json {
  const tag =
    route.auth === 'admin' ? 'admin' : route.auth === 'none' ? 'health' : route.auth === 'server' ? 'tokens' : 'widget';
  const required = route.auth === 'widget' && route.token === 'required' ? ' A widget token is required.' : '';
  const role = route.role ? ` Role: \`${route.role}\`.` : '';
  return {
    operationId: operationIdOf(route),
    summary: `${route.method} ${route.path}`,
    description: `${CREDENTIAL[route.auth]}${required}${role} Lambda entry: \`lambdas/handlers/${route.handler}.ts\`.`,
    tags: [tag],
    security: securityOf(route),
    ...(route.query || route.params || idempotent(route)
      ? {
          parameters: [
            ...parametersOf(route.params, 'path'),
            ...parametersOf(route.query, 'query'),
            ...(idempotent(route) ? [IDEMPOTENCY_KEY] : []),
          ],
        }
      : {}),
    ...(route.body
      ? { requestBody: { required: true, content: { 'application/json': { schema: refOf(route.body) } } } }
      : {}),
    responses: {
      [String(route.status)]: successResponse(route, refOf),
      ...errorResponses(route, errorCodesOf(route), shared),
    },
  };
}

/** The CORS preflight every route path answers (`route-fallback.ts`). */
function preflightOf(path: string, route: Route, shared: SharedResponses): Json {
  const preflight = errorResponses(undefined, PREFLIGHT_CODES, shared);
  const pathParameters = parametersOf(route.params, 'path');
  return {
    operationId: operationIdOf({ method: 'OPTIONS', path }),
    summary: `OPTIONS ${path}`,
    description:
      'CORS preflight; an allowed `Origin` also gets `Access-Control-Allow-Methods`, `-Headers` and `-Max-Age`.',
    tags: ['cors'],
    security: [],
    ...(pathParameters.length > 0 ? { parameters: pathParameters } : {}),
    responses: {
      '204': shared.ref('Preflight', {
        description: 'The methods of this path, in `Allow`.',
        headers: headersOf(undefined, 204, []),
      }),
      ...preflight,
    },
  };
}

/** `schemas` without the components that nothing in `document` refers to, directly or not. */
function referenced(schemas: Json, document: unknown): Json {
  const refs = (value: unknown) =>
    [...JSON.stringify(value).matchAll(/"#\/components\/schemas\/([^"]+)"/g)].map(([, id]) => id!);
  const used = new Set(refs(document));
  for (const id of used) for (const more of refs(schemas[id])) used.add(more);
  return Object.fromEntries(Object.entries(schemas).filter(([id]) => used.has(id)));
}

/** Builds the whole OpenAPI 3.1 document from the route table. */
export function buildOpenApi(): Json {
  const { schemas, refOf } = componentSchemas();
  const shared = new SharedResponses();
  const paths: Record<string, Json> = {};
  for (const route of ROUTES) {
    const item = (paths[route.path] ??= {});
    item[route.method.toLowerCase()] = operationOf(route, refOf, shared);
    item.options ??= preflightOf(route.path, route, shared);
  }
  const responses = shared.components();
  return {
    openapi: '3.1.1',
    info: {
      title: 'Chat widget backend',
      version: '1',
      description:
        'The API embeddable AI chat widgets call. Generated from `lambdas/http/routes.ts` by `npm run openapi`; the prose reference is `docs/api.md`. A request no route takes is `404 NOT_FOUND`, a known path with another method `405 METHOD_NOT_ALLOWED` with `Allow`.',
      license: { name: 'UNLICENSED', identifier: 'UNLICENSED' },
    },
    servers: [
      {
        url: 'http://127.0.0.1:3000',
        description: 'The local server (`npm start`); deployed, the API Gateway stage URL.',
      },
    ],
    tags: [
      { name: 'widget', description: 'Called by the widget in the browser, with the widget key.' },
      { name: 'tokens', description: "Called by the customer's backend, with a bearer key." },
      { name: 'admin', description: 'Administration, with a bearer key.' },
      { name: 'health', description: 'Liveness.' },
      { name: 'cors', description: 'CORS preflight.' },
    ],
    paths,
    components: {
      schemas: referenced(schemas, { paths, responses }),
      responses,
      headers: componentHeaders(),
      securitySchemes: {
        widgetKey: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Widget-Api-Key',
          description: 'The publishable widget key: identifies the deployment.',
        },
        widgetToken: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'A widget token (HS256 JWT) naming the user; `Authorization: Bearer <JWT>`.',
        },
        bearerKey: {
          type: 'http',
          scheme: 'bearer',
          description: 'A root or managed API key with a role (`admin`, `admin:read`, `tokens:mint`).',
        },
      },
    },
  };
}
