/**
 * Managed API keys over HTTP (issue 11): the lifecycle (create → use → list → revoke → refused at
 * once), expiry, the role matrix over every keyed route of the route table, the limit of active
 * keys under concurrency, and that the security table never holds a key (scanned directly).
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { ROLES, type Role } from '../../lambdas/lib/roles.js';
import { ROUTES } from '../../lambdas/http/routes.js';
import { errorOf, http, postJson, type HttpResponse, type List } from '../helpers/http.js';
import { startServer, type RunningServer } from '../helpers/local-server.js';

interface KeyView {
  id: string;
  name: string;
  role: Role;
  prefix: string;
  status: 'active' | 'revoked' | 'expired';
  createdBy: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
}
interface Created extends KeyView {
  key: string;
}
interface AuditItem {
  type: string;
  actor: string;
  detail: Record<string, string | number>;
}

const SECURITY_TABLE = 'keys-test-security';
/** How long the expiry test waits at most for a key to expire (it expires 1.5 s after creation). */
const EXPIRY_DEADLINE_MS = 15_000;
const MAX_ACTIVE = 50;

describe('managed API keys over HTTP', () => {
  let server: RunningServer;
  let dynalite: Server;
  let endpoint: string;
  /** Every key this suite was given, to look for in the table at the end. */
  const issued: string[] = [];

  const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });
  const rootAdmin = () => bearer(server.secrets.adminKey);
  const create = async (body: unknown, headers = rootAdmin()): Promise<HttpResponse> => {
    const res = await postJson(`${server.url}/v1/admin/keys`, body, headers);
    if (res.status === 201) issued.push((res.json as Created).key);
    return res;
  };
  const created = async (body: unknown, headers = rootAdmin()): Promise<Created> => {
    const res = await create(body, headers);
    expect(res.status).toBe(201);
    return res.json as Created;
  };
  const revoke = (id: string, headers = rootAdmin()) =>
    http(`${server.url}/v1/admin/keys/${id}`, { method: 'DELETE', headers });
  const listKeys = async (): Promise<KeyView[]> => {
    const items: KeyView[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor === null ? '?limit=100' : `?limit=100&cursor=${encodeURIComponent(cursor)}`;
      const res = await http(`${server.url}/v1/admin/keys${query}`, { headers: rootAdmin() });
      expect(res.status).toBe(200);
      const page = res.json as List<KeyView>;
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null);
    return items;
  };
  const audit = async (type: string): Promise<AuditItem[]> => {
    const res = await http(`${server.url}/v1/admin/audit?type=${type}&limit=100`, { headers: rootAdmin() });
    expect(res.status).toBe(200);
    return (res.json as List<AuditItem>).items;
  };
  const readConversations = (key: string) => http(`${server.url}/v1/admin/conversations`, { headers: bearer(key) });

  beforeAll(async () => {
    const start = createRequire(import.meta.url)('dynalite') as (options: Record<string, unknown>) => Server;
    dynalite = start({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    await new Promise<void>((resolve) => dynalite.listen(0, '127.0.0.1', () => resolve()));
    const address = dynalite.address();
    endpoint = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    server = await startServer({ DYNAMODB_ENDPOINT: endpoint, SECURITY_TABLE });
    await server.waitForOutput(/"tables ready"/);
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await new Promise<void>((resolve) => (dynalite ? dynalite.close(() => resolve()) : resolve()));
  });

  describe('lifecycle', () => {
    let key: Created;

    beforeAll(async () => {
      key = await created({ name: 'support desk', role: 'admin:read' });
    });

    it('It should answer the key once, with its view and no digest', () => {
      // Assess
      expect(key.key).toMatch(/^cwk_test_[A-Za-z0-9_-]{43}$/);
      expect(Object.keys(key).sort()).toEqual(
        ['createdAt', 'createdBy', 'expiresAt', 'id', 'key', 'name', 'prefix', 'revokedAt', 'role', 'status'].sort(),
      );
      expect(key).toMatchObject({
        name: 'support desk',
        role: 'admin:read',
        prefix: key.key.slice(0, 15),
        status: 'active',
        createdBy: 'admin',
        expiresAt: null,
        revokedAt: null,
      });
    });

    it('It should let the key read the admin API', async () => {
      // Act
      const res = await readConversations(key.key);

      // Assess
      expect(res.status).toBe(200);
    });

    it('It should list the key without the key or its digest', async () => {
      // Act
      const res = await http(`${server.url}/v1/admin/keys`, { headers: rootAdmin() });

      // Assess
      expect(res.status).toBe(200);
      const listed = (res.json as List<KeyView>).items.find((k) => k.id === key.id);
      expect({ ...listed, key: key.key }).toEqual(key);
      expect(res.text).not.toContain(key.key);
      expect(res.text).not.toContain(createHash('sha256').update(key.key).digest('hex'));
    });

    it('It should refuse the key at once after it is revoked, and audit the three events without the key', async () => {
      // Act
      const revoked = await revoke(key.id);
      const after = await readConversations(key.key);

      // Assess
      expect(revoked.status).toBe(204);
      expect(after.status).toBe(401);
      expect(errorOf(after).code).toBe('UNAUTHORIZED');
      const [createdEvents, revokedEvents, rejectedEvents] = await Promise.all(
        ['key.created', 'key.revoked', 'key.rejected'].map(audit),
      );
      expect(createdEvents).toContainEqual(
        expect.objectContaining({ actor: 'admin', detail: { keyId: key.id, role: 'admin:read' } }),
      );
      expect(revokedEvents).toContainEqual(
        expect.objectContaining({ actor: 'admin', detail: { keyId: key.id, role: 'admin:read' } }),
      );
      expect(rejectedEvents).toContainEqual(
        expect.objectContaining({ detail: { reason: 'revoked', credential: 'admin', keyId: key.id } }),
      );
      const everything = await http(`${server.url}/v1/admin/audit?limit=100`, { headers: rootAdmin() });
      expect(everything.text).not.toContain(key.key);
    });

    it('It should list the key as revoked', async () => {
      // Act
      const keys = await listKeys();

      // Assess
      const listed = keys.find((k) => k.id === key.id);
      expect(listed?.status).toBe('revoked');
      expect(Date.parse(listed?.revokedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(key.createdAt));
    });

    it.each([
      ['a second revocation', () => key.id, 204, undefined],
      ['an unknown id', () => `k${'0'.repeat(25)}`, 404, 'NOT_FOUND'],
      ['a malformed id', () => 'not-a-key-id', 400, 'VALIDATION_FAILED'],
    ])('It should answer %s with %i', async (_label, id, status, code) => {
      // Act
      const res = await revoke(id());

      // Assess
      expect(res.status).toBe(status);
      if (code !== undefined) expect(errorOf(res).code).toBe(code);
    });
  });

  describe('creation', () => {
    it('It should let a managed admin key create keys, recorded as their creator', async () => {
      // Prepare
      const admin = await created({ name: 'ops', role: 'admin' });

      // Act
      const made = await created({ name: 'made by ops', role: 'tokens:mint' }, bearer(admin.key));

      // Assess
      expect(made.createdBy).toBe(`key:${admin.id}`);
      await Promise.all([revoke(admin.id), revoke(made.id)]);
    });

    it.each([
      ['no name', { role: 'admin' }],
      ['an empty name', { name: '  ', role: 'admin' }],
      ['a long name', { name: 'n'.repeat(65), role: 'admin' }],
      ['an unknown role', { name: 'x', role: 'superuser' }],
      ['an expiry in the past', { name: 'x', role: 'admin', expiresAt: '2001-01-01T00:00:00Z' }],
      ['an expiry that is no date', { name: 'x', role: 'admin', expiresAt: 'tomorrow' }],
      ['a key chosen by the caller', { name: 'x', role: 'admin', key: `cwk_test_${'A'.repeat(43)}` }],
    ])('It should refuse a key with %s (400)', async (_label, body) => {
      // Act
      const res = await create(body);

      // Assess
      expect(res.status).toBe(400);
      expect(errorOf(res).code).toBe('VALIDATION_FAILED');
    });
  });

  it(
    'It should refuse a key once its expiry has passed, and audit it as expired',
    async () => {
      // Prepare
      const key = await created({
        name: 'short',
        role: 'admin:read',
        expiresAt: new Date(Date.now() + 1500).toISOString(),
      });
      const before = await readConversations(key.key);

      // Act: poll until the key is refused (the server's clock decides).
      let after = before;
      const deadline = Date.now() + EXPIRY_DEADLINE_MS;
      while (after.status === 200 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        after = await readConversations(key.key);
      }

      // Assess
      expect(before.status).toBe(200);
      expect(after.status).toBe(401);
      expect(await audit('key.rejected')).toContainEqual(
        expect.objectContaining({ detail: { reason: 'expired', credential: 'admin', keyId: key.id } }),
      );
      expect((await listKeys()).find((k) => k.id === key.id)?.status).toBe('expired');
      expect((await revoke(key.id)).status).toBe(204);
    },
    EXPIRY_DEADLINE_MS + 10_000,
  );

  describe('role matrix', () => {
    /** Every route of the table that a bearer key opens, with a request that passes authentication. */
    const keyed = ROUTES.filter((route) => route.role !== undefined).map((route) => ({
      ...route,
      url: route.path.replace('{sessionId}', 'matrix-session').replace('{keyId}', `k${'1'.repeat(25)}`),
    }));
    const holders: { label: string; role: Role; key: () => string }[] = [];
    const managed: Partial<Record<Role, string>> = {};
    for (const role of ROLES)
      holders.push({ label: `a managed ${role} key`, role, key: () => managed[role] as string });
    holders.push({ label: 'the root admin key', role: 'admin', key: () => server.secrets.adminKey });
    holders.push({ label: 'the root server key', role: 'tokens:mint', key: () => server.secrets.serverKey });

    const allowed: Readonly<Record<Role, (route: { role?: Role }) => boolean>> = {
      admin: () => true,
      'admin:read': (route) => route.role === 'admin:read',
      'tokens:mint': (route) => route.role === 'tokens:mint',
    };
    const cases = keyed.flatMap((route) =>
      holders.map((holder) => ({ ...holder, route, expected: allowed[holder.role](route) ? 'allowed' : 'FORBIDDEN' })),
    );

    beforeAll(async () => {
      for (const role of ROLES) managed[role] = (await created({ name: `matrix ${role}`, role })).key;
    });

    it('It should test every keyed route of the route table', () => {
      // Assess
      expect(new Set(cases.map((c) => `${c.route.method} ${c.route.path}`)).size).toBe(keyed.length);
      expect(keyed.length).toBeGreaterThanOrEqual(9);
    });

    it.each(cases)(
      'It should find $route.method $route.path $expected for $label',
      async ({ route, key, expected }) => {
        // Act: an empty JSON body: an allowed key gets past authentication to validation (400) or further.
        const res = await http(`${server.url}${route.url}`, {
          method: route.method,
          headers: { ...bearer(key()), ...(route.method === 'POST' ? { 'Content-Type': 'application/json' } : {}) },
          body: route.method === 'POST' ? '{}' : undefined,
        });

        // Assess
        if (expected === 'FORBIDDEN') {
          expect(res.status).toBe(403);
          expect(errorOf(res).code).toBe('FORBIDDEN');
        } else {
          expect([401, 403]).not.toContain(res.status);
          expect(res.status).toBeLessThan(500);
        }
      },
    );
  });

  describe('limit of active keys', () => {
    it(`It should create exactly ${MAX_ACTIVE} of 60 concurrent keys, and free a slot on revocation`, async () => {
      // Prepare: revoke what earlier tests left active.
      for (const key of await listKeys()) if (key.status !== 'revoked') await revoke(key.id);

      // Act
      const results = await Promise.all(
        Array.from({ length: 60 }, (_, i) => create({ name: `bulk ${i}`, role: 'tokens:mint' })),
      );
      const refused = results.filter((r) => r.status !== 201);
      const one = (results.find((r) => r.status === 201)?.json as Created).id;
      const whileFull = await create({ name: 'one too many', role: 'tokens:mint' });
      await revoke(one);
      const afterRevoke = await create({ name: 'in the freed slot', role: 'tokens:mint' });

      // Assess
      expect(results.length - refused.length).toBe(MAX_ACTIVE);
      expect(refused.map((r) => [r.status, errorOf(r).code])).toEqual(Array(10).fill([409, 'KEY_LIMIT_REACHED']));
      expect(whileFull.status).toBe(409);
      expect(afterRevoke.status).toBe(201);
    }, 60_000);
  });

  describe('hash at rest', () => {
    it('It should hold digests of the keys in the security table, never a key or its random part', async () => {
      // Prepare
      const client = new DynamoDBClient({
        endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      });
      const items: unknown[] = [];
      let start: Record<string, unknown> | undefined;

      // Act
      do {
        const page = await client.send(
          new ScanCommand({ TableName: SECURITY_TABLE, ExclusiveStartKey: start as never }),
        );
        items.push(...(page.Items ?? []));
        start = page.LastEvaluatedKey;
      } while (start !== undefined);
      client.destroy();
      const dump = JSON.stringify(items);

      // Assess
      expect(issued.length).toBeGreaterThan(MAX_ACTIVE);
      for (const key of issued) {
        expect(dump).not.toContain(key);
        expect(dump).not.toContain(key.slice(15));
        expect(dump).toContain(createHash('sha256').update(key).digest('hex'));
      }
    });
  });
});
