import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildOpenApi, errorCodesOf, OPENAPI_FILE, serializeOpenApi } from '../../../lambdas/http/openapi.js';
import { ROUTES, type Route } from '../../../lambdas/http/routes.js';
import { chatRequestSchema, sessionParamsSchema } from '../../../lambdas/lib/schemas.js';

interface Operation {
  readonly responses: Record<string, unknown>;
  readonly security: unknown[];
}
type Document = {
  paths: Record<string, Record<string, Operation>>;
  components: { responses: Record<string, unknown> };
};

/** Codes API Gateway and AWS WAF may answer on any deployed route. */
const GATEWAY = ['BAD_REQUEST', 'FORBIDDEN', 'RATE_LIMIT_EXCEEDED', 'SERVICE_UNAVAILABLE'];

describe('the OpenAPI document', () => {
  const document = buildOpenApi() as Document;

  it('should be what npm run openapi writes (run it when this fails)', () => {
    // Prepare
    const committed = readFileSync(resolve(import.meta.dirname, '../../..', OPENAPI_FILE), 'utf8');

    // Act
    const generated = serializeOpenApi(document);

    // Assess
    expect(committed).toBe(generated);
  });

  it('should write each error answer once, in components.responses, and refer to it', () => {
    // Act
    const answers = Object.values(document.paths).flatMap((item) =>
      Object.values(item).flatMap((operation) =>
        Object.entries(operation.responses).filter(([status]) => Number(status) >= 400),
      ),
    );
    const named = new Set(answers.map(([, answer]) => (answer as { $ref?: string }).$ref?.split('/').pop()));

    // Assess
    expect(answers.length).toBeGreaterThan(Object.keys(document.components.responses).length);
    expect(named.has(undefined)).toBe(false);
    for (const name of named) expect(document.components.responses).toHaveProperty([name!]);
  });

  it.each(ROUTES.map((route) => [`${route.method} ${route.path}`, route] as const))(
    'should document %s with its success status and a preflight',
    (_key, route) => {
      // Act
      const item = document.paths[route.path]!;

      // Assess
      expect(Object.keys(item[route.method.toLowerCase()]!.responses)).toContain(String(route.status));
      expect(item.options!.responses).toHaveProperty('204');
    },
  );

  it.each<[string, Partial<Route>, string[]]>([
    ['an open route', { auth: 'none' }, []],
    [
      'a widget route with a body',
      { auth: 'widget', body: chatRequestSchema },
      [
        'INVALID_JSON',
        'UNAUTHORIZED',
        'TOKEN_EXPIRED',
        'UNSUPPORTED_MEDIA_TYPE',
        'RATE_LIMIT_EXCEEDED',
        'SERVICE_UNAVAILABLE',
      ],
    ],
    [
      'an admin route with a role and path parameters',
      { auth: 'admin', role: 'admin', params: sessionParamsSchema },
      ['UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND', 'RATE_LIMIT_EXCEEDED', 'SERVICE_UNAVAILABLE'],
    ],
    ['a route whose handler raises its own', { auth: 'none', errors: ['KEY_LIMIT_REACHED'] }, ['KEY_LIMIT_REACHED']],
  ])('should derive the error codes of %s from its facts', (_name, facts, own) => {
    // Prepare
    const route = { method: 'GET', path: '/x', handler: 'health', status: 200, ...facts } as Route;
    const always = ['ORIGIN_NOT_ALLOWED', 'PAYLOAD_TOO_LARGE', 'VALIDATION_FAILED', 'INTERNAL_ERROR', ...GATEWAY];

    // Act
    const codes = errorCodesOf(route);

    // Assess
    expect([...codes].sort()).toEqual([...new Set([...always, ...own])].sort());
  });

  it.each<[string, Partial<Route>, unknown[]]>([
    ['an open route', { auth: 'none' }, []],
    [
      'a route that requires a widget token',
      { auth: 'widget', token: 'required' },
      [{ widgetKey: [], widgetToken: [] }],
    ],
    [
      'a widget route with an optional token',
      { auth: 'widget' },
      [{ widgetKey: [] }, { widgetKey: [], widgetToken: [] }],
    ],
    ['an admin route', { auth: 'admin', role: 'admin:read' }, [{ bearerKey: ['admin:read'] }]],
  ])('should state the credential of %s as its security requirement', (_name, facts, security) => {
    // Prepare
    const route = ROUTES.find(
      (r) => r.auth === facts.auth && r.token === facts.token && (!facts.role || r.role === facts.role),
    )!;

    // Act
    const operation = document.paths[route.path]![route.method.toLowerCase()]!;

    // Assess
    expect(operation.security).toEqual(security);
  });
});
