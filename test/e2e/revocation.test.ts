/**
 * Token revocation over HTTP (design §3, §4): logout with the token itself, admin revocation by
 * `jti`, by token value (hash when there is no `jti`) and by user, the audit trail of both, and
 * failing closed (503) when the revocation store cannot answer.
 */
import { SignJWT } from 'jose';
import jwt, { type SignOptions } from 'jsonwebtoken';
import { closedPort, http, postJson, type HttpResponse, type List, errorOf } from '../helpers/http.js';
import { describeLocalOnly, startServer, startTarget, type RunningServer } from '../helpers/local-server.js';
import { respellings } from '../helpers/forged-tokens.js';

/** Revocation by user works in whole seconds: a token must be issued in a later second to survive it. */
const NEXT_SECOND_MS = 1100;

interface Minted {
  token: string;
  jti: string;
}
interface AuditItem {
  type: string;
  actor: string;
  route: string;
  detail: Record<string, string | number>;
}

const nowS = () => Math.floor(Date.now() / 1000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('token revocation over HTTP', () => {
  let server: RunningServer;

  const widget = () => ({ 'X-Widget-Api-Key': server.secrets.widgetKey });
  const bearer = (token: string) => ({ ...widget(), Authorization: `Bearer ${token}` });
  const adminAuth = () => ({ Authorization: `Bearer ${server.secrets.adminKey}` });
  const chat = (sessionId: string, token: string) =>
    postJson(`${server.url}/v1/chat`, { sessionId, message: 'hello' }, bearer(token));
  const messages = (sessionId: string, token: string) =>
    http(`${server.url}/v1/sessions/${sessionId}/messages`, { headers: bearer(token) });
  const logout = (headers: Record<string, string>) =>
    http(`${server.url}/v1/tokens/revoke`, { method: 'POST', headers });
  const adminRevoke = (body: unknown, headers: Record<string, string> = adminAuth()) =>
    postJson(`${server.url}/v1/admin/tokens/revoke`, body, headers);
  const mint = async (userId: string): Promise<Minted> => {
    const res = await postJson(
      `${server.url}/v1/tokens`,
      { userId },
      { Authorization: `Bearer ${server.secrets.serverKey}` },
    );
    expect(res.status).toBe(201);
    return res.json as Minted;
  };
  /** A token as the customer's backend signs it (Hissuno style): no jti. */
  const customer = (userId: string, options: SignOptions = {}) =>
    jwt.sign({ userId, userMetadata: { plan: 'pro' }, exp: nowS() + 3600 }, server.secrets.signingSecret, options);
  const expectRevoked = (res: HttpResponse) => {
    expect(res.status).toBe(401);
    expect(errorOf(res).code).toBe('UNAUTHORIZED');
    expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
  };
  const audit = async (type: string) => {
    const res = await http(`${server.url}/v1/admin/audit?type=${type}&limit=100`, { headers: adminAuth() });
    expect(res.status).toBe(200);
    return res;
  };

  beforeAll(async () => {
    server = await startTarget();
  });
  afterAll(async () => {
    await server.stop();
  });

  describe('logout: POST /v1/tokens/revoke', () => {
    const USER = 'logout-user';
    const SESSION = 'logout-session';
    let revoked: Minted;
    let other: Minted;

    beforeAll(async () => {
      [revoked, other] = await Promise.all([mint(USER), mint(USER)]);
      expect((await chat(SESSION, revoked!.token)).status).toBe(200);
    });

    it('It should answer 204 with an empty body', async () => {
      // Act
      const res = await logout(bearer(revoked.token));

      // Assess
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
    });

    it.each<[string, (token: string) => Promise<HttpResponse>]>([
      ['POST /v1/chat', (token) => chat(SESSION, token)],
      ['GET /v1/sessions/{id}/messages', (token) => messages(SESSION, token)],
      ['POST /v1/tokens/revoke', (token) => logout(bearer(token))],
    ])('It should then answer 401 invalid_token to the same token on %s', async (_label, send) => {
      // Act
      const res = await send(revoked.token);

      // Assess
      expectRevoked(res);
    });

    it('It should keep another token of the same user working, with no trace of the refused turn', async () => {
      // Act
      const chatRes = await chat(SESSION, other.token);
      const history = await messages(SESSION, other.token);

      // Assess
      expect(chatRes.status).toBe(200);
      expect(history.status).toBe(200);
      expect((history.json as List<unknown>).items).toHaveLength(4);
    });

    it('It should answer 401 to logout without a token', async () => {
      // Act
      const res = await logout(widget());

      // Assess
      expect(res.status).toBe(401);
      expect(errorOf(res).code).toBe('UNAUTHORIZED');
    });

    it('It should answer 401 to logout with a token but without the widget key', async () => {
      // Prepare
      const token = (await mint(USER)).token;

      // Act
      const res = await logout({ Authorization: `Bearer ${token}` });

      // Assess
      expect(res.status).toBe(401);
      expect((await chat(SESSION, token)).status).toBe(200);
    });

    it('It should keep a logged-out token revoked while it is still accepted within the clock tolerance after exp', async () => {
      // Prepare: a token that expires in 2 s; verification accepts it until exp + 60 s.
      const exp = nowS() + 2;
      const token = jwt.sign({ userId: USER, exp }, server.secrets.signingSecret);
      expect((await logout(bearer(token))).status).toBe(204);
      await sleep(exp * 1000 + 100 - Date.now());

      // Act
      const res = await chat(SESSION, token);

      // Assess
      expectRevoked(res);
    });

    it('It should revoke a customer token without jti by its hash on logout', async () => {
      // Prepare
      const token = customer(USER);
      const sibling = customer(USER, { noTimestamp: true });
      expect((await chat(SESSION, token)).status).toBe(200);

      // Act
      const res = await logout(bearer(token));

      // Assess
      expect(res.status).toBe(204);
      expectRevoked(await chat(SESSION, token));
      expect((await chat(SESSION, sibling)).status).toBe(200);
    });
  });

  describe('admin revocation: POST /v1/admin/tokens/revoke', () => {
    it('It should revoke one token by {jti} and leave the user’s other tokens working', async () => {
      // Prepare
      const [target, bystander] = await Promise.all([mint('jti-user'), mint('jti-user')]);
      expect((await chat('jti-session', target.token)).status).toBe(200);

      // Act
      const res = await adminRevoke({ jti: target.jti });

      // Assess
      expect(res.status).toBe(204);
      expectRevoked(await chat('jti-session', target.token));
      expectRevoked(await messages('jti-session', target.token));
      expect((await chat('jti-session', bystander.token)).status).toBe(200);
    });

    it('It should revoke a customer token without jti by {token} (its hash)', async () => {
      // Prepare
      const target = customer('hash-user');
      const bystander = customer('hash-user', { noTimestamp: true });
      expect(target).not.toBe(bystander);
      expect((await chat('hash-session', target)).status).toBe(200);

      // Act
      const res = await adminRevoke({ token: target });

      // Assess
      expect(res.status).toBe(204);
      expectRevoked(await chat('hash-session', target));
      expect((await chat('hash-session', bystander)).status).toBe(200);
    });

    it.each<[string, string, (token: string) => Promise<HttpResponse>]>([
      ['logout', 'respelled-logout', (token) => logout(bearer(token))],
      ['admin {token}', 'respelled-admin', (token) => adminRevoke({ token })],
    ])(
      'It should keep a token without jti revoked after %s when its signature is spelled differently',
      async (_label, userId, revoke) => {
        // Prepare: the same signature bytes, with other values in the unused bits of the last character.
        const token = customer(userId);
        const spellings = respellings(token);
        expect(spellings).toHaveLength(3);
        expect((await revoke(token)).status).toBe(204);

        // Act
        const statuses = await Promise.all(spellings.map(async (spelling) => (await chat(userId, spelling)).status));

        // Assess
        expect(statuses).toEqual([401, 401, 401]);
      },
    );

    it('It should revoke a minted token by {token} through its jti', async () => {
      // Prepare
      const [target, bystander] = await Promise.all([mint('token-jti-user'), mint('token-jti-user')]);

      // Act
      const res = await adminRevoke({ token: target.token });

      // Assess
      expect(res.status).toBe(204);
      expectRevoked(await chat('token-jti-session', target.token));
      expect((await chat('token-jti-session', bystander.token)).status).toBe(200);
    });

    it('It should revoke every token of a user by {userId}, and only that user’s', async () => {
      // Prepare
      const USER = 'everything-user';
      const minted = await mint(USER);
      const withIat = customer(USER);
      const withoutIat = customer(USER, { noTimestamp: true });
      const otherUser = await mint('everything-bystander');
      for (const token of [minted.token, withIat, withoutIat])
        expect((await chat('all-session', token)).status).toBe(200);

      // Act
      const res = await adminRevoke({ userId: USER });

      // Assess
      expect(res.status).toBe(204);
      for (const token of [minted.token, withIat, withoutIat]) {
        expectRevoked(await chat('all-session', token));
        expectRevoked(await messages('all-session', token));
      }
      expect((await chat('all-bystander-session', otherUser.token)).status).toBe(200);
    });

    it('It should accept tokens of that user issued in a later second, but not tokens without iat', async () => {
      // Prepare: tokens of the revocation's own second are revoked too (fail closed), so wait for the next one.
      const USER = 'later-user';
      expect((await chat('later-session', (await mint(USER)).token)).status).toBe(200);
      expect((await adminRevoke({ userId: USER })).status).toBe(204);
      await sleep(NEXT_SECOND_MS);

      // Act
      const minted = await chat('later-session', (await mint(USER)).token);
      const signedLater = await chat('later-session', customer(USER));
      const undated = await chat('later-session', customer(USER, { noTimestamp: true }));

      // Assess
      expect(minted.status).toBe(200);
      expect(signedLater.status).toBe(200);
      expectRevoked(undated);
    });

    it.each<[string, unknown]>([
      ['an empty object', {}],
      ['jti and userId together', { jti: 'a', userId: 'b' }],
      ['jti and token together', { jti: 'a', token: 'x.y.z' }],
      ['all three fields', { jti: 'a', token: 'x.y.z', userId: 'b' }],
      ['an unknown field', { sessionId: 's' }],
      ['jti with an unknown field', { jti: 'a', reason: 'because' }],
      ['an empty jti', { jti: '' }],
      ['a jti of 129 characters', { jti: 'j'.repeat(129) }],
      ['a numeric jti', { jti: 42 }],
      ['a userId with a space', { userId: 'a b' }],
      ['a token that is not a JWT', { token: 'not-a-jwt' }],
      ['a token whose payload is not JSON', { token: `${Buffer.from('{}').toString('base64url')}.bm9wZQ.c2ln` }],
      ['a token over 4096 characters', { token: 'a'.repeat(4097) }],
      ['an array', [{ jti: 'a' }]],
      ['a JSON string', '"jti"'],
    ])('It should answer 400 VALIDATION_FAILED to %s', async (_label, body) => {
      // Act
      const res = await adminRevoke(body);

      // Assess
      expect(res.status).toBe(400);
      expect(errorOf(res).code).toBe('VALIDATION_FAILED');
    });

    it.each<[string, () => Record<string, string>, number, string]>([
      ['no credential', () => ({}), 401, 'UNAUTHORIZED'],
      ['the widget key', () => widget(), 401, 'UNAUTHORIZED'],
      [
        'the widget key as a Bearer',
        () => ({ Authorization: `Bearer ${server.secrets.widgetKey}` }),
        401,
        'UNAUTHORIZED',
      ],
      [
        'the server key (role tokens:mint)',
        () => ({ Authorization: `Bearer ${server.secrets.serverKey}` }),
        403,
        'FORBIDDEN',
      ],
      ['the signing secret', () => ({ Authorization: `Bearer ${server.secrets.signingSecret}` }), 401, 'UNAUTHORIZED'],
    ])('It should answer %s with %i %s, and revoke nothing', async (_label, headers, status, code) => {
      // Prepare
      const target = await mint('denied-user');

      // Act
      const res = await adminRevoke({ userId: 'denied-user' }, headers());

      // Assess
      expect(res.status).toBe(status);
      expect(errorOf(res).code).toBe(code);
      expect((await chat('denied-session', target.token)).status).toBe(200);
    });

    it('It should answer 401 to a widget token of the user, and revoke nothing', async () => {
      // Prepare
      const target = await mint('self-admin-user');

      // Act
      const res = await adminRevoke({ userId: 'self-admin-user' }, bearer(target.token));

      // Assess
      expect(res.status).toBe(401);
      expect((await chat('self-admin-session', target.token)).status).toBe(200);
    });
  });

  describe('the audit trail', () => {
    it('It should record token.revoked for logout and for each kind of admin revocation', async () => {
      // Prepare
      const [loggedOut, byJti] = await Promise.all([mint('audit-user'), mint('audit-user')]);
      expect((await logout(bearer(loggedOut.token))).status).toBe(204);
      expect((await adminRevoke({ jti: byJti.jti })).status).toBe(204);
      expect((await adminRevoke({ userId: 'audit-user' })).status).toBe(204);

      // Act
      const res = await audit('token.revoked');

      // Assess
      const items = (res.json as List<AuditItem>).items;
      expect(items.every((item) => item.type === 'token.revoked')).toBe(true);
      expect(items).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ actor: 'user:audit-user', detail: { reason: 'logout' } }),
          expect.objectContaining({ actor: 'admin', detail: { by: 'jti', jti: byJti.jti } }),
          expect.objectContaining({ actor: 'admin', detail: { by: 'userId', userId: 'audit-user' } }),
          expect.objectContaining({ actor: 'admin', detail: { by: 'token' } }),
        ]),
      );
      expect(res.text).not.toContain(loggedOut.token);
    });

    it('It should record token.invalid with reason "revoked" when a revoked token is presented', async () => {
      // Prepare
      const target = await mint('audit-invalid-user');
      expect((await adminRevoke({ jti: target.jti })).status).toBe(204);
      expectRevoked(await chat('audit-invalid-session', target.token));

      // Act
      const res = await audit('token.invalid');

      // Assess
      const items = (res.json as List<AuditItem>).items;
      expect(items.every((item) => item.type === 'token.invalid')).toBe(true);
      expect(items).toContainEqual(
        expect.objectContaining({
          route: '/v1/chat',
          detail: expect.objectContaining({ reason: 'revoked' }) as unknown,
        }),
      );
      expect(res.text).not.toContain(target.token);
    });
  });
});

describeLocalOnly('token revocation when the revocation store cannot answer', () => {
  let server: RunningServer;

  const bearer = (token: string) => ({
    'X-Widget-Api-Key': server.secrets.widgetKey,
    Authorization: `Bearer ${token}`,
  });
  /** A valid token, signed here: minting over HTTP works without DynamoDB, but this needs nothing at all. */
  const localToken = (userId: string) =>
    new SignJWT({ userId })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setJti(`local-${userId}`)
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(server.secrets.signingSecret));
  const expectClosed = (res: HttpResponse) => {
    expect(res.status).toBe(503);
    expect(errorOf(res).code).toBe('SERVICE_UNAVAILABLE');
  };

  beforeAll(async () => {
    const port = await closedPort();
    server = await startServer({ DYNAMODB_ENDPOINT: `http://127.0.0.1:${port}` });
  });
  afterAll(async () => {
    await server.stop();
  });

  it.each<[string, (token: string) => Promise<HttpResponse>]>([
    [
      'POST /v1/chat',
      (token) => postJson(`${server.url}/v1/chat`, { sessionId: 'closed-1', message: 'hello' }, bearer(token)),
    ],
    [
      'GET /v1/sessions/{id}/messages',
      (token) => http(`${server.url}/v1/sessions/closed-1/messages`, { headers: bearer(token) }),
    ],
    [
      'POST /v1/tokens/revoke',
      (token) => http(`${server.url}/v1/tokens/revoke`, { method: 'POST', headers: bearer(token) }),
    ],
  ])('It should fail closed with 503, never 2xx, for a valid token on %s', async (_label, send) => {
    // Prepare
    const token = await localToken('closed-user');

    // Act
    const res = await send(token);

    // Assess
    expectClosed(res);
  });

  it('It should fail closed on minting too, since the token rate limit cannot be counted', async () => {
    // Act
    const minted = await postJson(
      `${server.url}/v1/tokens`,
      { userId: 'closed-minted' },
      { Authorization: `Bearer ${server.secrets.serverKey}` },
    );

    // Assess
    expectClosed(minted);
  });

  it('It should fail closed with 503 on admin revocation', async () => {
    // Act
    const res = await postJson(
      `${server.url}/v1/admin/tokens/revoke`,
      { userId: 'closed-user' },
      { Authorization: `Bearer ${server.secrets.adminKey}` },
    );

    // Assess
    expectClosed(res);
  });

  it('It should refuse a bad token without letting it through, even though its failure cannot be counted', async () => {
    // Prepare
    const token = await new SignJWT({ userId: 'closed-user' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode('not-the-signing-secret-0123456789abcdef'));

    // Act
    const res = await postJson(`${server.url}/v1/chat`, { sessionId: 'closed-3', message: 'hello' }, bearer(token));

    // Assess: the failed-auth lockout cannot count it, so the answer is 503, never a pass.
    expectClosed(res);
  });
});
