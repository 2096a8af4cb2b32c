import { ROLES, roleAllows, type Role } from '../../../lambdas/lib/roles.js';
import { ROUTES, isAdminPath, requiredRole } from '../../../lambdas/http/routes.js';

describe('roles', () => {
  const table: readonly [Role, Role, boolean][] = [
    ['admin', 'admin', true],
    ['admin', 'admin:read', true],
    ['admin', 'tokens:mint', true],
    ['admin:read', 'admin', false],
    ['admin:read', 'admin:read', true],
    ['admin:read', 'tokens:mint', false],
    ['tokens:mint', 'admin', false],
    ['tokens:mint', 'admin:read', false],
    ['tokens:mint', 'tokens:mint', true],
  ];

  it('It should cover every pair of roles in this table', () => {
    // Assess
    expect(table.map(([held, required]) => `${held}>${required}`).sort()).toEqual(
      ROLES.flatMap((held) => ROLES.map((required) => `${held}>${required}`)).sort(),
    );
  });

  it.each(table)('It should let a key with role %s call a %s route: %s', (held, required, allowed) => {
    // Act
    const actual = roleAllows(held, required);

    // Assess
    expect(actual).toBe(allowed);
  });
});

describe('route roles', () => {
  const adminRoutes = ROUTES.filter((route) => isAdminPath(route.path));

  it.each(adminRoutes)(
    'It should let $method $path require admin:read when it only reads, else admin',
    ({ method, role }) => {
      // Assess
      expect(role).toBe(method === 'GET' ? 'admin:read' : 'admin');
    },
  );

  it('It should let POST /v1/tokens require tokens:mint and no other route', () => {
    // Act
    const minting = ROUTES.filter((route) => route.role === 'tokens:mint');

    // Assess
    expect(minting.map((route) => `${route.method} ${route.path}`)).toEqual(['POST /v1/tokens']);
  });

  it.each([
    ['a route of the table', 'GET', '/v1/admin/keys', 'admin:read'],
    ['a method the resource lacks', 'PUT', '/v1/admin/keys', 'admin'],
    ['an unknown resource', 'GET', '/v1/admin/new-thing', 'admin'],
  ] as const)('It should answer the role of %s, the strictest when unknown', (_label, method, resource, role) => {
    // Act
    const actual = requiredRole(method, resource);

    // Assess
    expect(actual).toBe(role);
  });
});
