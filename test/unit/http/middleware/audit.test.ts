import { build as buildDelete } from '../../../../lambdas/handlers/admin-delete-conversation.js';
import { build as buildGetConversation } from '../../../../lambdas/handlers/admin-get-conversation.js';
import { build as buildAudit } from '../../../../lambdas/handlers/admin-list-audit.js';
import { build as buildChat } from '../../../../lambdas/handlers/post-chat.js';
import { defineHandler } from '../../../../lambdas/http/handler.js';
import { T0, chatRequest, fakeRuntime, invoke, type FakeRuntime } from '../../../helpers/fake-runtime.js';

const asAdmin = (fake: FakeRuntime, extra: Record<string, string> = {}) => ({
  Authorization: `Bearer ${fake.keys.admin}`,
  'X-Request-Id': 'req-admin',
  ...extra,
});

describe('admin audit middleware', () => {
  it('It should record a successful admin call as admin.access with its status', async () => {
    // Prepare
    const fake = fakeRuntime();

    // Act
    const response = await invoke(buildAudit(fake.runtime), {
      method: 'GET',
      path: '/v1/admin/audit',
      headers: asAdmin(fake),
      sourceIp: '198.51.100.1',
    });

    // Assess
    expect(response.statusCode).toBe(200);
    expect(fake.auditStore.stored).toEqual([
      {
        type: 'admin.access',
        actor: 'admin',
        ip: '198.51.100.1',
        method: 'GET',
        route: '/v1/admin/audit',
        requestId: 'req-admin',
        at: T0,
        detail: { status: 200 },
      },
    ]);
  });

  it('It should record the session id and a 404 for a conversation that does not exist', async () => {
    // Prepare
    const fake = fakeRuntime();

    // Act
    const response = await invoke(buildGetConversation(fake.runtime), {
      method: 'GET',
      path: '/v1/admin/conversations/s-missing',
      headers: asAdmin(fake),
    });

    // Assess
    expect(response.statusCode).toBe(404);
    expect(fake.auditStore.ofType('admin.access')).toEqual([
      expect.objectContaining({
        route: '/v1/admin/conversations/{sessionId}',
        detail: { status: 404, sessionId: 's-missing' },
      }),
    ]);
  });

  it('It should record a 400 for an admin call that fails validation', async () => {
    // Prepare
    const fake = fakeRuntime();

    // Act
    const response = await invoke(buildAudit(fake.runtime), {
      method: 'GET',
      path: '/v1/admin/audit',
      headers: asAdmin(fake),
      query: { limit: '1000' },
    });

    // Assess
    expect(response.statusCode).toBe(400);
    expect(fake.auditStore.ofType('admin.access')).toEqual([expect.objectContaining({ detail: { status: 400 } })]);
  });

  it('It should record a 500 for an admin handler that crashes', async () => {
    // Prepare
    const fake = fakeRuntime();
    const crash = defineHandler({ auth: 'admin' }, async () => {
      throw new Error('boom');
    });

    // Act
    const response = await invoke(crash.build(fake.runtime), {
      method: 'GET',
      path: '/v1/admin/conversations',
      headers: asAdmin(fake),
    });

    // Assess
    expect(response.statusCode).toBe(500);
    expect(fake.auditStore.ofType('admin.access')).toEqual([expect.objectContaining({ detail: { status: 500 } })]);
  });

  it('It should record a deletion as conversation.deleted and admin.access with 204', async () => {
    // Prepare
    const fake = fakeRuntime();
    await invoke(buildChat(fake.runtime), chatRequest(fake.keys.widget, { sessionId: 's-del', message: 'hi' }));

    // Act
    const response = await invoke(buildDelete(fake.runtime), {
      method: 'DELETE',
      path: '/v1/admin/conversations/s-del',
      headers: asAdmin(fake),
    });

    // Assess
    expect(response.statusCode).toBe(204);
    expect(fake.auditStore.stored.map((e) => [e.type, e.detail])).toEqual([
      ['conversation.deleted', { sessionId: 's-del', items: 3 }],
      ['admin.access', { status: 204, sessionId: 's-del' }],
    ]);
  });

  it.each([
    ['no credential', {}],
    ['the widget key', { 'X-Widget-Api-Key': 'placeholder' }],
    ['a wrong admin key', { Authorization: 'Bearer wrong' }],
  ])('It should not record admin.access for a call with %s, only auth.failure', async (_label, headers) => {
    // Prepare
    const fake = fakeRuntime();

    // Act
    const response = await invoke(buildAudit(fake.runtime), { method: 'GET', path: '/v1/admin/audit', headers });

    // Assess
    expect(response.statusCode).toBe(401);
    expect(fake.auditStore.ofType('admin.access')).toEqual([]);
    expect(fake.auditStore.ofType('auth.failure')).toHaveLength(1);
  });

  it('It should not record admin.access for a call from a disallowed origin', async () => {
    // Prepare
    const fake = fakeRuntime();

    // Act
    const response = await invoke(buildAudit(fake.runtime), {
      method: 'GET',
      path: '/v1/admin/audit',
      headers: asAdmin(fake, { Origin: 'https://evil.com' }),
    });

    // Assess
    expect(response.statusCode).toBe(403);
    expect(fake.auditStore.ofType('admin.access')).toEqual([]);
    expect(fake.auditStore.ofType('origin.rejected')).toHaveLength(1);
  });

  it('It should not record admin.access for widget routes', async () => {
    // Prepare
    const fake = fakeRuntime();

    // Act
    const response = await invoke(buildChat(fake.runtime), chatRequest(fake.keys.widget));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(fake.auditStore.all()).toEqual([]);
  });
});
