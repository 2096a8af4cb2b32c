/**
 * Managed keys and roles through the real chain: a managed key authenticates as `key:<id>` with
 * its role, a role that does not cover the route is 403, a revoked or expired key is 401 and
 * audited as `key.rejected` (never with the key), and a store that cannot answer fails closed.
 */
import { generateApiKey, newKeyId } from '../../../../lambdas/lib/api-keys.js';
import { ServiceUnavailableError } from '../../../../lambdas/lib/errors.js';
import { defineHandler } from '../../../../lambdas/http/handler.js';
import { json } from '../../../../lambdas/http/responses.js';
import type { Role } from '../../../../lambdas/lib/roles.js';
import type { ApiKeyRecord } from '../../../../lambdas/lib/api-keys.js';
import { T0, errorOf, fakeRuntime, invoke, type FakeRuntime } from '../../../helpers/fake-runtime.js';

const probe = (auth: 'admin' | 'server') =>
  defineHandler({ auth }, async ({ state }) => json(200, { actor: state.actor }));
/** One route per required role, as the route table declares them. */
const ROUTE_OF = {
  admin: { handler: probe('admin'), method: 'DELETE', path: '/v1/admin/conversations/s-1' },
  'admin:read': { handler: probe('admin'), method: 'GET', path: '/v1/admin/audit' },
  'tokens:mint': { handler: probe('server'), method: 'POST', path: '/v1/tokens' },
} as const satisfies Record<Role, unknown>;

async function managedKey(fake: FakeRuntime, role: Role, overrides: Partial<ApiKeyRecord> = {}) {
  const { key, hash, prefix } = generateApiKey('test');
  const record: ApiKeyRecord = {
    id: newKeyId(T0),
    name: 'test',
    role,
    hash,
    prefix,
    createdBy: 'admin',
    createdAt: T0,
    ...overrides,
  };
  await fake.apiKeyStore.create(record, 50);
  return { key, record };
}

const call = (fake: FakeRuntime, required: Role, key: string) => {
  const route = ROUTE_OF[required];
  return invoke(route.handler.build(fake.runtime), {
    method: route.method,
    path: route.path,
    headers: { Authorization: `Bearer ${key}` },
  });
};

describe('auth middleware with managed keys and roles', () => {
  const matrix: [Role, Role, number][] = [
    ['admin', 'admin', 200],
    ['admin', 'admin:read', 200],
    ['admin', 'tokens:mint', 200],
    ['admin:read', 'admin', 403],
    ['admin:read', 'admin:read', 200],
    ['admin:read', 'tokens:mint', 403],
    ['tokens:mint', 'admin', 403],
    ['tokens:mint', 'admin:read', 403],
    ['tokens:mint', 'tokens:mint', 200],
  ];

  it.each(matrix)('It should answer a managed %s key on a %s route with %i', async (held, required, status) => {
    // Prepare
    const fake = fakeRuntime();
    const { key, record } = await managedKey(fake, held);

    // Act
    const response = await call(fake, required, key);

    // Assess
    expect(response.statusCode).toBe(status);
    if (status === 200) expect(response.json).toEqual({ actor: `key:${record.id}` });
    else expect(errorOf(response).code).toBe('FORBIDDEN');
  });

  it.each([
    ['the root admin key', (f: FakeRuntime) => f.keys.admin, 'admin', 'tokens:mint', 200],
    ['the root admin key', (f: FakeRuntime) => f.keys.admin, 'admin', 'admin', 200],
    ['the root server key', (f: FakeRuntime) => f.keys.server, 'server', 'tokens:mint', 200],
    ['the root server key', (f: FakeRuntime) => f.keys.server, 'server', 'admin:read', 403],
    ['the root server key', (f: FakeRuntime) => f.keys.server, 'server', 'admin', 403],
  ] as const)(
    'It should treat %s as role of actor %s: on a %s route %i',
    async (_label, pick, actor, required, status) => {
      // Prepare
      const fake = fakeRuntime();

      // Act
      const response = await call(fake, required, pick(fake));

      // Assess
      expect(response.statusCode).toBe(status);
      if (status === 200) expect(response.json).toEqual({ actor });
    },
  );

  it('It should record the admin access of a refused role with its actor', async () => {
    // Prepare
    const fake = fakeRuntime();
    const { key, record } = await managedKey(fake, 'admin:read');

    // Act
    await call(fake, 'admin', key);

    // Assess
    const events = fake.auditStore.ofType('admin.access');
    expect(events.map((e) => [e.actor, e.detail?.status])).toEqual([[`key:${record.id}`, 403]]);
  });

  it.each([
    ['revoked', { revokedAt: T0 - 1 }],
    ['expired', { expiresAt: T0 }],
  ] as const)('It should answer a %s key with 401 and audit key.rejected without the key', async (reason, state) => {
    // Prepare
    const fake = fakeRuntime();
    const { key, record } = await managedKey(fake, 'admin', state);

    // Act
    const response = await call(fake, 'admin:read', key);

    // Assess
    expect(response.statusCode).toBe(401);
    expect(errorOf(response).code).toBe('UNAUTHORIZED');
    expect(response.headers['WWW-Authenticate']).toBe('Bearer realm="chat-widget"');
    expect(fake.auditStore.ofType('key.rejected')).toEqual([
      expect.objectContaining({ actor: 'anonymous', detail: { reason, credential: 'admin', keyId: record.id } }),
    ]);
    const stored = JSON.stringify(fake.auditStore.all());
    expect(stored).not.toContain(key);
    expect(stored).not.toContain(record.hash);
  });

  it('It should answer an unknown managed key like any wrong key', async () => {
    // Prepare
    const fake = fakeRuntime();

    // Act
    const response = await call(fake, 'admin:read', generateApiKey('test').key);

    // Assess
    expect(response.statusCode).toBe(401);
    expect(fake.auditStore.ofType('auth.failure')).toEqual([
      expect.objectContaining({ detail: { reason: 'mismatch', credential: 'admin' } }),
    ]);
  });

  it('It should count a rejected key towards the failed-authentication lockout', async () => {
    // Prepare
    const fake = fakeRuntime({ env: { AUTH_FAILURE_LIMIT: '2' } });
    const { key } = await managedKey(fake, 'admin', { revokedAt: T0 - 1 });

    // Act
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await call(fake, 'admin:read', key)).statusCode);

    // Assess
    expect(statuses).toEqual([401, 401, 429]);
  });

  it('It should fail closed with 503 when the key store cannot answer', async () => {
    // Prepare
    const fake = fakeRuntime();
    const { key } = await managedKey(fake, 'admin');
    fake.apiKeyStore.failure = new ServiceUnavailableError();

    // Act
    const response = await call(fake, 'admin:read', key);

    // Assess
    expect(response.statusCode).toBe(503);
  });
});
