import { ROUTES, isAdminPath, matchRoute, resourceFor } from '../../../lambdas/http/routes.js';

describe('matchRoute', () => {
  it.each([
    ['POST', '/v1/chat', 'post-chat', '/v1/chat', null],
    ['POST', '/chat', 'post-chat', '/chat', null],
    ['GET', '/v1/admin/conversations', 'admin-list-conversations', '/v1/admin/conversations', null],
    [
      'GET',
      '/v1/admin/conversations/s-1',
      'admin-get-conversation',
      '/v1/admin/conversations/{sessionId}',
      { sessionId: 's-1' },
    ],
    [
      'DELETE',
      '/v1/admin/conversations/s-1',
      'admin-delete-conversation',
      '/v1/admin/conversations/{sessionId}',
      { sessionId: 's-1' },
    ],
    ['GET', '/v1/admin/audit', 'admin-list-audit', '/v1/admin/audit', null],
    ['GET', '/health', 'health', '/health', null],
    [
      'GET',
      '/v1/sessions/s-1/messages',
      'get-session-messages',
      '/v1/sessions/{sessionId}/messages',
      { sessionId: 's-1' },
    ],
    ['POST', '/v1/tokens', 'mint-token', '/v1/tokens', null],
    ['POST', '/v1/tokens/revoke', 'revoke-token', '/v1/tokens/revoke', null],
    ['POST', '/v1/admin/tokens/revoke', 'admin-revoke-token', '/v1/admin/tokens/revoke', null],
    ['POST', '/v1/admin/keys', 'admin-create-key', '/v1/admin/keys', null],
    ['GET', '/v1/admin/keys', 'admin-list-keys', '/v1/admin/keys', null],
    ['DELETE', '/v1/admin/keys/k1', 'admin-revoke-key', '/v1/admin/keys/{keyId}', { keyId: 'k1' }],
  ])('It should route %s %s to %s', (method, path, handler, resource, pathParameters) => {
    // Act
    const match = matchRoute(method, path);

    // Assess
    expect(match).toEqual({ handler, resource, pathParameters });
  });

  it('It should cover every route of the table', () => {
    // Act
    const handlers = ROUTES.map((route) => matchRoute(route.method, route.path.replace('{sessionId}', 'x')).handler);

    // Assess
    expect(handlers).toEqual(ROUTES.map((route) => route.handler));
  });

  it.each([
    ['an encoded colon', 'abc%3A1', 'abc:1'],
    ['an encoded space', 'a%20b', 'a b'],
    ['an encoded slash', 'a%2Fb', 'a/b'],
    ['an encoded dot segment', '%2E%2E', '..'],
    ['UTF-8', '%C3%A9t%C3%A9', 'été'],
  ])('It should decode %s in a path parameter', (_label, raw, decoded) => {
    // Act
    const match = matchRoute('GET', `/v1/admin/conversations/${raw}`);

    // Assess
    expect(match.handler).toBe('admin-get-conversation');
    expect(match.pathParameters).toEqual({ sessionId: decoded });
  });

  it.each([
    ['GET', '/v1/chat', '/v1/chat', null],
    ['PUT', '/v1/chat', '/v1/chat', null],
    ['OPTIONS', '/chat', '/chat', null],
    ['POST', '/v1/admin/conversations', '/v1/admin/conversations', null],
    ['PATCH', '/v1/admin/conversations/s-1', '/v1/admin/conversations/{sessionId}', { sessionId: 's-1' }],
    ['POST', '/health', '/health', null],
    ['get', '/health', '/health', null],
  ])(
    'It should send %s %s to the fallback with the resource of the known path',
    (method, path, resource, pathParameters) => {
      // Act
      const match = matchRoute(method, path);

      // Assess
      expect(match).toEqual({ handler: 'route-fallback', resource, pathParameters });
    },
  );

  it.each([
    ['an unknown path', '/nope/x'],
    ['the root', '/'],
    ['a trailing slash', '/v1/chat/'],
    ['a trailing slash on a parameter route', '/v1/admin/conversations/s-1/'],
    ['a double slash in front', '//v1/chat'],
    ['a double slash inside', '/v1//chat'],
    ['an empty path parameter', '/v1/admin/conversations/'],
    ['an empty path parameter and a trailing slash', '/v1/admin/conversations//'],
    ['a dot segment', '/v1/./chat'],
    ['a parent segment', '/v1/admin/../chat'],
    ['a parent segment into admin', '/v1/chat/../admin/audit'],
    ['an encoded slash in a literal segment', '/v1%2Fchat'],
    ['an encoded literal segment', '/v1/%63hat'],
    ['another case', '/V1/CHAT'],
    ['bad percent-encoding in a parameter', '/v1/admin/conversations/%ZZ'],
    ['a truncated percent-encoding in a parameter', '/v1/admin/conversations/abc%E'],
    ['an invalid UTF-8 sequence in a parameter', '/v1/admin/conversations/%C3%28'],
    ['a prefix of a route', '/v1/admin'],
    ['an extension of a route', '/v1/chatx'],
    ['an extra segment', '/v1/admin/conversations/s-1/messages'],
    ['a session path without its last segment', '/v1/sessions/s-1'],
    ['an empty session parameter', '/v1/sessions//messages'],
    ['no leading slash', 'v1/chat'],
  ])('It should not match a real route for %s', (_label, path) => {
    // Act
    const match = matchRoute('POST', path);

    // Assess
    expect(match).toEqual({
      handler: 'route-fallback',
      resource: '/{proxy+}',
      pathParameters: { proxy: path.slice(1) },
    });
  });
});

describe('resourceFor', () => {
  it.each([
    ['/v1/chat', '/v1/chat', ['POST']],
    ['/v1/admin/conversations/s-1', '/v1/admin/conversations/{sessionId}', ['GET', 'DELETE']],
    ['/health', '/health', ['GET']],
  ])('It should list the methods served on %s', (path, resource, methods) => {
    // Act
    const found = resourceFor(path);

    // Assess
    expect(found?.resource).toBe(resource);
    expect(found?.methods).toEqual(methods);
  });

  it('It should return undefined for a path no route matches', () => {
    // Act
    const found = resourceFor('/v2/chat');

    // Assess
    expect(found).toBeUndefined();
  });
});

describe('isAdminPath', () => {
  it.each([
    ['/v1/admin', true],
    ['/v1/admin/audit', true],
    ['/v1/admin/conversations/{sessionId}', true],
    ['/v1/administrator', false],
    ['/v1/adminx/audit', false],
    ['/v1/chat', false],
    ['/admin', false],
  ])('It should classify %s as admin: %s', (path, admin) => {
    // Act
    const result = isAdminPath(path);

    // Assess
    expect(result).toBe(admin);
  });
});
