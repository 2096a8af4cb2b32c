/**
 * Widget tokens over HTTP (design §3, §4): minting with the server key, the attack table against
 * `POST /v1/chat`, tokens from the customer's own backend (jsonwebtoken, jose), tokens outside the
 * `Authorization` header ignored, and sessions that belong to the user of the token.
 */
import { SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import jwt from 'jsonwebtoken';
import { http, postJson, type HttpResponse, type List, errorOf } from '../helpers/http.js';
import { startTarget, type RunningServer } from '../helpers/local-server.js';
import {
  b64,
  flipFirstBit,
  forgeJws as forge,
  metadata,
  resign,
  type Claims,
  type Header,
} from '../helpers/forged-tokens.js';

const MAX_TTL = 7200;
const MAX_TOKEN_CHARS = 4096;
const ATTACKER = 'attacker-chosen-secret-0123456789abcdef-attacker';

interface Minted {
  token: string;
  tokenType: string;
  expiresAt: string;
  jti: string;
}
interface Message {
  role: string;
  content: string;
  createdAt: string;
}
interface Summary {
  sessionId: string;
  userId: string | null;
}

const nowS = () => Math.floor(Date.now() / 1000);

const key = (secret: string) => new TextEncoder().encode(secret);

const HS256: Header = { alg: 'HS256', typ: 'JWT' };
const ATTACK_USER = 'attack-user';
const claims = (extra: Claims = {}): Claims => ({ sub: ATTACK_USER, iat: nowS(), exp: nowS() + 600, ...extra });
const without = (name: string): Claims => Object.fromEntries(Object.entries(claims()).filter(([k]) => k !== name));

describe('widget tokens over HTTP', () => {
  let server: RunningServer;

  const widget = () => ({ 'X-Widget-Api-Key': server.secrets.widgetKey });
  const bearer = (token: string) => ({ ...widget(), Authorization: `Bearer ${token}` });
  const chat = (sessionId: string, message: string, headers: Record<string, string>, path = '/v1/chat') =>
    postJson(`${server.url}${path}`, { sessionId, message }, headers);
  const messages = (sessionId: string, headers: Record<string, string>, query = '') =>
    http(`${server.url}/v1/sessions/${sessionId}/messages${query}`, { headers });
  const admin = (pathAndQuery: string) =>
    http(`${server.url}${pathAndQuery}`, { headers: { Authorization: `Bearer ${server.secrets.adminKey}` } });
  const mintRaw = (
    body: unknown,
    headers: Record<string, string> = { Authorization: `Bearer ${server.secrets.serverKey}` },
  ) => postJson(`${server.url}/v1/tokens`, body, headers);
  const mint = async (userId: string, extra: Record<string, unknown> = {}): Promise<Minted> => {
    const res = await mintRaw({ userId, ...extra });
    expect(res.status).toBe(201);
    return res.json as Minted;
  };
  /** The owner of a session as the admin API sees it (null for anonymous). */
  const ownerOf = async (sessionId: string) => {
    const res = await admin(`/v1/admin/conversations/${sessionId}`);
    expect(res.status).toBe(200);
    return (res.json as { conversation: Summary }).conversation.userId;
  };
  const expectInvalidToken = (res: HttpResponse, code = 'UNAUTHORIZED') => {
    expect(res.status).toBe(401);
    expect(errorOf(res).code).toBe(code);
    expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
  };

  beforeAll(async () => {
    server = await startTarget({ WIDGET_TOKEN_MAX_TTL_SECONDS: String(MAX_TTL) });
  });
  afterAll(async () => {
    await server.stop();
  });

  describe('POST /v1/tokens', () => {
    it('It should mint a Bearer token for the user with the server key: 201 {token, tokenType, expiresAt, jti}', async () => {
      // Prepare
      const before = nowS();

      // Act
      const res = await mintRaw({ userId: 'mint-user', userMetadata: { plan: 'pro' } });

      // Assess
      expect(res.status).toBe(201);
      const body = res.json as Minted;
      expect(Object.keys(body).sort()).toEqual(['expiresAt', 'jti', 'token', 'tokenType']);
      expect(body.tokenType).toBe('Bearer');
      expect(body.expiresAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/);
      expect(decodeProtectedHeader(body.token)).toEqual({ alg: 'HS256', typ: 'JWT' });
      const payload = decodeJwt(body.token);
      expect(payload).toEqual({
        sub: 'mint-user',
        userMetadata: { plan: 'pro' },
        jti: body.jti,
        iat: expect.any(Number) as unknown,
        exp: Date.parse(body.expiresAt) / 1000,
      });
      expect(payload.iat).toBeGreaterThanOrEqual(before);
      expect(payload.iat).toBeLessThanOrEqual(nowS());
      expect(payload.exp! - payload.iat!).toBe(3600);
    });

    it.each<[number]>([[60], [MAX_TTL]])('It should honour expiresInSeconds %i', async (expiresInSeconds) => {
      // Act
      const minted = await mint('mint-ttl', { expiresInSeconds });

      // Assess
      const payload = decodeJwt(minted.token);
      expect(payload.exp! - payload.iat!).toBe(expiresInSeconds);
    });

    it('It should give each minted token its own jti', async () => {
      // Act
      const [first, second] = await Promise.all([mint('mint-jti'), mint('mint-jti')]);

      // Assess
      expect(first.jti).not.toBe(second.jti);
    });

    it.each<[string, () => Record<string, string>]>([
      ['no credential', () => ({})],
      ['the widget key', () => ({ 'X-Widget-Api-Key': server.secrets.widgetKey })],
      ['the widget key as a Bearer', () => ({ Authorization: `Bearer ${server.secrets.widgetKey}` })],
      ['the signing secret', () => ({ Authorization: `Bearer ${server.secrets.signingSecret}` })],
      ['the server key in the widget key header', () => ({ 'X-Widget-Api-Key': server.secrets.serverKey })],
      [
        'the server key with a scheme other than Bearer',
        () => ({ Authorization: `Basic ${server.secrets.serverKey}` }),
      ],
      ['a wrong server key', () => ({ Authorization: `Bearer ${server.secrets.serverKey.slice(0, -1)}x` })],
    ])('It should answer 401 to %s', async (_label, headers) => {
      // Act
      const res = await mintRaw({ userId: 'mint-denied' }, headers());

      // Assess
      expect(res.status).toBe(401);
      expect(errorOf(res).code).toBe('UNAUTHORIZED');
      expect(res.json).not.toHaveProperty('token');
    });

    it('It should answer 401 to a widget token presented as the server credential', async () => {
      // Prepare
      const minted = await mint('mint-escalation');

      // Act
      const res = await mintRaw({ userId: 'someone-else' }, { ...widget(), Authorization: `Bearer ${minted.token}` });

      // Assess
      expect(res.status).toBe(401);
    });

    it.each<[string, unknown, string]>([
      ['a missing userId', {}, 'body.userId'],
      ['an empty userId', { userId: '' }, 'body.userId'],
      ['a userId with a space', { userId: 'a b' }, 'body.userId'],
      ['a numeric userId', { userId: 42 }, 'body.userId'],
      ['a userId of 129 characters', { userId: 'u'.repeat(129) }, 'body.userId'],
      ['userMetadata with 21 keys', { userId: 'u', userMetadata: metadata(21) }, 'body.userMetadata'],
      ['userMetadata with a key of 65 characters', { userId: 'u', userMetadata: metadata(1, 65) }, 'body.userMetadata'],
      [
        'userMetadata with a value of 513 characters',
        { userId: 'u', userMetadata: metadata(1, 8, 513) },
        'body.userMetadata',
      ],
      ['userMetadata with a number value', { userId: 'u', userMetadata: { plan: 3 } }, 'body.userMetadata'],
      ['userMetadata that is a string', { userId: 'u', userMetadata: 'pro' }, 'body.userMetadata'],
      [`expiresInSeconds over ${MAX_TTL}`, { userId: 'u', expiresInSeconds: MAX_TTL + 1 }, 'body.expiresInSeconds'],
      ['expiresInSeconds of a day', { userId: 'u', expiresInSeconds: 86400 }, 'body.expiresInSeconds'],
      ['expiresInSeconds under 60', { userId: 'u', expiresInSeconds: 59 }, 'body.expiresInSeconds'],
      ['expiresInSeconds of 0', { userId: 'u', expiresInSeconds: 0 }, 'body.expiresInSeconds'],
      ['negative expiresInSeconds', { userId: 'u', expiresInSeconds: -3600 }, 'body.expiresInSeconds'],
      ['fractional expiresInSeconds', { userId: 'u', expiresInSeconds: 600.5 }, 'body.expiresInSeconds'],
      ['expiresInSeconds as a string', { userId: 'u', expiresInSeconds: '600' }, 'body.expiresInSeconds'],
      ['an unknown field', { userId: 'u', role: 'admin' }, 'body.role'],
      ['a sub field', { userId: 'u', sub: 'u' }, 'body.sub'],
      ['a jti field', { userId: 'u', jti: 'chosen' }, 'body.jti'],
      ['an array body', [{ userId: 'u' }], 'body'],
    ])('It should answer 400 VALIDATION_FAILED to %s', async (_label, body, path) => {
      // Act
      const res = await mintRaw(body);

      // Assess
      expect(res.status).toBe(400);
      expect(errorOf(res).code).toBe('VALIDATION_FAILED');
      expect(errorOf(res).details?.map((d) => d.path)).toContainEqual(expect.stringMatching(`^${path}`));
    });

    it('It should never hand out a token that the server itself refuses, even for the largest userMetadata allowed', async () => {
      // Prepare: 20 keys of 64 characters with values of 512 characters each pass the metadata rules.
      const userMetadata = metadata(20, 64, 512);

      // Act
      const res = await mintRaw({ userId: 'mint-huge', userMetadata });
      const used =
        res.status === 201 ? await chat('mint-huge-1', 'hello', bearer((res.json as Minted).token)) : undefined;

      // Assess: a 400 at minting is fine; a 201 whose token is then refused is not.
      expect({ mint: res.status, chat: used?.status }).toEqual(
        res.status === 201 ? { mint: 201, chat: 200 } : { mint: 400, chat: undefined },
      );
    });
  });

  describe('bad tokens on POST /v1/chat', () => {
    const SESSION = 'attack-session';
    const ok = (secret: string, extra: Claims = {}) => forge(HS256, claims(extra), secret);

    it.each<[string, (secret: string) => string]>([
      ['alg "none" with an empty signature', () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`],
      ['alg "None" with an empty signature', () => `${b64({ alg: 'None' })}.${b64(claims())}.`],
      ['alg "NONE" with an empty signature', () => `${b64({ alg: 'NONE' })}.${b64(claims())}.`],
      ['alg "none" with a garbage signature', () => `${b64({ alg: 'none' })}.${b64(claims())}.Z2FyYmFnZQ`],
      ['alg "None" with a garbage signature', () => `${b64({ alg: 'None' })}.${b64(claims())}.Z2FyYmFnZQ`],
      ['alg "NONE" with a garbage signature', () => `${b64({ alg: 'NONE' })}.${b64(claims())}.Z2FyYmFnZQ`],
      ['alg "none" over a genuine signature', (s) => ok(s).replace(/^[^.]+/, b64({ alg: 'none' }))],
      ['HS384 signed with the signing secret', (s) => forge({ alg: 'HS384' }, claims(), s, 'sha384')],
      ['HS512 signed with the signing secret', (s) => forge({ alg: 'HS512' }, claims(), s, 'sha512')],
      [
        'jsonwebtoken HS512 signed with the signing secret',
        (s) => jwt.sign({ userId: ATTACK_USER, exp: nowS() + 600 }, s, { algorithm: 'HS512' }),
      ],
      ['an RS256 header over an HS256 signature', (s) => forge({ alg: 'RS256' }, claims(), s)],
      ['an ES256 header over an HS256 signature', (s) => forge({ alg: 'ES256' }, claims(), s)],
      ['a PS256 header over an HS256 signature', (s) => forge({ alg: 'PS256' }, claims(), s)],
      ['an EdDSA header over an HS256 signature', (s) => forge({ alg: 'EdDSA' }, claims(), s)],
      ['a token signed with another secret', () => ok(ATTACKER)],
      ['a token signed with the widget key', () => ok(server.secrets.widgetKey)],
      ['a signature truncated by one byte', (s) => resign(ok(s), (sig) => sig.subarray(0, sig.length - 1))],
      ['a signature truncated by one character', (s) => ok(s).slice(0, -1)],
      ['a bit-flipped signature', (s) => resign(ok(s), flipFirstBit)],
      ['a missing exp', (s) => forge(HS256, without('exp'), s)],
      ['an nbf two minutes in the future', (s) => ok(s, { nbf: nowS() + 120 })],
      ['an iat two minutes in the future', (s) => ok(s, { iat: nowS() + 120, exp: nowS() + 720 })],
      ['a lifetime exp − iat over the cap', (s) => ok(s, { exp: nowS() + MAX_TTL + 5 })],
      [
        'a lifetime exp − now over the cap without iat',
        (s) => forge(HS256, { sub: ATTACK_USER, exp: nowS() + MAX_TTL + 5 }, s),
      ],
      ['a crit header', (s) => forge({ ...HS256, crit: ['exp'] }, claims(), s)],
      [
        'a jku header, signed with the attacker key',
        () => forge({ ...HS256, jku: 'https://attacker.example/jwks' }, claims(), ATTACKER),
      ],
      [
        'a jwk header carrying the attacker key',
        () => forge({ ...HS256, jwk: { kty: 'oct', k: b64(ATTACKER) } }, claims(), ATTACKER),
      ],
      [
        'an x5u header, signed with the attacker key',
        () => forge({ ...HS256, x5u: 'https://attacker.example/x5u' }, claims(), ATTACKER),
      ],
      ['a kid naming the attacker key', () => forge({ ...HS256, kid: 'attacker' }, claims(), ATTACKER)],
      ['two segments', (s) => ok(s).split('.').slice(0, 2).join('.')],
      ['four segments', (s) => `${ok(s)}.${b64('extra')}`],
      ['an empty header segment', (s) => `.${ok(s).split('.').slice(1).join('.')}`],
      ['an empty payload segment', (s) => ok(s).replace(/\.[^.]+\./, '..')],
      ['three empty segments', () => '..'],
      [`a token over ${MAX_TOKEN_CHARS} characters`, (s) => ok(s, { userMetadata: metadata(20, 8, 300) })],
      ['sub and userId that differ', (s) => ok(s, { userId: 'someone-else' })],
      ['neither sub nor userId', (s) => forge(HS256, without('sub'), s)],
      ['userMetadata with 21 keys', (s) => ok(s, { userMetadata: metadata(21) })],
      ['userMetadata with a key of 65 characters', (s) => ok(s, { userMetadata: metadata(1, 65) })],
      ['userMetadata with a value of 513 characters', (s) => ok(s, { userMetadata: metadata(1, 8, 513) })],
      ['userMetadata with a number value', (s) => ok(s, { userMetadata: { plan: 3 } })],
      ['an unknown claim', (s) => ok(s, { role: 'admin' })],
      ['typ "at+jwt"', (s) => forge({ alg: 'HS256', typ: 'at+jwt' }, claims(), s)],
      ['an expired token signed with another secret', () => ok(ATTACKER, { iat: nowS() - 7000, exp: nowS() - 3600 })],
      ['an expired token with alg "none"', () => `${b64({ alg: 'none' })}.${b64(claims({ exp: nowS() - 3600 }))}.`],
    ])('It should answer 401 invalid_token, never 200, to %s', async (_label, build) => {
      // Prepare
      const token = build(server.secrets.signingSecret);

      // Act
      const res = await chat(SESSION, 'hello', bearer(token));

      // Assess
      expectInvalidToken(res);
      expect(res.text).not.toContain(token);
    });

    it.each<[string, (token: string) => string]>([
      ['"Bearer" with nothing after it', () => 'Bearer '],
      ['a scheme other than Bearer', (token) => `Basic ${token}`],
      ['a token without a scheme', (token) => token],
      ['two tokens', (token) => `Bearer ${token} ${token}`],
      ['an empty header', () => ''],
    ])('It should answer 401 invalid_token to an Authorization header with %s', async (_label, header) => {
      // Prepare
      const minted = await mint('header-user');

      // Act
      const res = await chat(SESSION, 'hello', { ...widget(), Authorization: header(minted.token) });

      // Assess
      expectInvalidToken(res);
    });

    it('It should not have fallen back to anonymous for any of them: the session was never created', async () => {
      // Act
      const res = await admin(`/v1/admin/conversations/${SESSION}`);

      // Assess
      expect(res.status).toBe(404);
    });

    it('It should answer 401 TOKEN_EXPIRED to a genuine token that has expired', async () => {
      // Prepare
      const token = forge(HS256, claims({ iat: nowS() - 700, exp: nowS() - 120 }), server.secrets.signingSecret);

      // Act
      const res = await chat('expired-session', 'hello', bearer(token));

      // Assess
      expectInvalidToken(res, 'TOKEN_EXPIRED');
    });

    it('It should still require the widget key when the token is genuine', async () => {
      // Prepare
      const minted = await mint('no-widget-key');

      // Act
      const res = await chat('no-key-session', 'hello', { Authorization: `Bearer ${minted.token}` });

      // Assess
      expect(res.status).toBe(401);
      expect(errorOf(res).code).toBe('UNAUTHORIZED');
    });
  });

  describe('good tokens on POST /v1/chat', () => {
    const userMetadata = { name: 'Ada', plan: 'pro' };

    it.each<[string, string, (secret: string) => Promise<string> | string]>([
      [
        'jsonwebtoken jwt.sign({ userId, userMetadata, exp }, secret)',
        'seed-jsonwebtoken',
        (s) => jwt.sign({ userId: 'seed-jsonwebtoken', userMetadata, exp: nowS() + 3600 }, s),
      ],
      [
        'jsonwebtoken without iat',
        'seed-notimestamp',
        (s) => jwt.sign({ userId: 'seed-notimestamp', userMetadata, exp: nowS() + 3600 }, s, { noTimestamp: true }),
      ],
      [
        'jsonwebtoken with expiresIn and subject',
        'seed-subject',
        (s) => jwt.sign({ userMetadata }, s, { expiresIn: '1h', subject: 'seed-subject' }),
      ],
      [
        'jose SignJWT with userId',
        'seed-jose',
        (s) =>
          new SignJWT({ userId: 'seed-jose', userMetadata })
            .setProtectedHeader({ alg: 'HS256' })
            .setIssuedAt()
            .setExpirationTime('1h')
            .sign(key(s)),
      ],
      [
        'jose SignJWT with sub, jti and typ',
        'seed-jose-sub',
        (s) =>
          new SignJWT({})
            .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
            .setSubject('seed-jose-sub')
            .setJti('seed-jose-sub-jti')
            .setIssuedAt()
            .setExpirationTime('10m')
            .sign(key(s)),
      ],
      [
        'a token whose exp passed 30 s ago (within the clock tolerance)',
        'seed-tolerance',
        (s) => forge(HS256, { userId: 'seed-tolerance', iat: nowS() - 600, exp: nowS() - 30 }, s),
      ],
      ['a token minted by POST /v1/tokens', 'seed-minted', async () => (await mint('seed-minted')).token],
      [
        'a token minted with userMetadata',
        'seed-minted-meta',
        async () => (await mint('seed-minted-meta', { userMetadata, expiresInSeconds: 60 })).token,
      ],
    ])('It should answer 200 to %s and give the session to its user', async (_label, userId, build) => {
      // Prepare
      const token = await build(server.secrets.signingSecret);
      const sessionId = `good-${userId}`;

      // Act
      const res = await chat(sessionId, 'hello', bearer(token));

      // Assess
      expect(res.status).toBe(200);
      expect(res.json).toEqual({
        sessionId,
        message: { role: 'assistant', content: 'Echo: hello', createdAt: expect.any(String) as unknown },
      });
      expect(await ownerOf(sessionId)).toBe(userId);
    });

    it('It should serve the /chat alias with a token too', async () => {
      // Prepare
      const minted = await mint('alias-user');

      // Act
      const res = await chat('alias-session', 'hello', bearer(minted.token), '/chat');

      // Assess
      expect(res.status).toBe(200);
      expect(await ownerOf('alias-session')).toBe('alias-user');
    });
  });

  describe('tokens outside the Authorization header', () => {
    const OWNED = 'elsewhere-owned';
    let token: string;

    beforeAll(async () => {
      token = (await mint('elsewhere-user')).token;
      expect((await chat(OWNED, 'mine', bearer(token))).status).toBe(200);
    });

    it.each<[string, (t: string) => { query: string; headers: Record<string, string> }]>([
      ['?token=', (t) => ({ query: `?token=${t}`, headers: {} })],
      ['?access_token=', (t) => ({ query: `?access_token=${t}`, headers: {} })],
      ['a token cookie', (t) => ({ query: '', headers: { Cookie: `token=${t}` } })],
      ['an access_token cookie', (t) => ({ query: '', headers: { Cookie: `access_token=${t}` } })],
      ['an X-Widget-Token header', (t) => ({ query: '', headers: { 'X-Widget-Token': t } })],
    ])('It should ignore a token in %s: the history still needs a token (401)', async (_label, place) => {
      // Prepare
      const { query, headers } = place(token);

      // Act
      const res = await messages(OWNED, { ...widget(), ...headers }, query);

      // Assess
      expect(res.status).toBe(401);
      expect(errorOf(res).code).toBe('UNAUTHORIZED');
      expect(res.text).not.toContain('mine');
    });

    it.each<[string, (t: string) => { query: string; headers: Record<string, string> }]>([
      ['?token=', (t) => ({ query: `?token=${t}`, headers: {} })],
      ['?access_token=', (t) => ({ query: `?access_token=${t}`, headers: {} })],
      ['a token cookie', (t) => ({ query: '', headers: { Cookie: `token=${t}` } })],
    ])('It should treat chat with a token in %s as anonymous: the user’s session is 404', async (_label, place) => {
      // Prepare
      const { query, headers } = place(token);

      // Act
      const res = await postJson(
        `${server.url}/v1/chat${query}`,
        { sessionId: OWNED, message: 'let me in' },
        { ...widget(), ...headers },
      );

      // Assess
      expect(res.status).toBe(404);
      expect(errorOf(res).code).toBe('NOT_FOUND');
    });

    it('It should make a new session started with a token in the query string anonymous', async () => {
      // Act
      const res = await postJson(
        `${server.url}/v1/chat?access_token=${token}`,
        { sessionId: 'elsewhere-new', message: 'hello' },
        widget(),
      );

      // Assess
      expect(res.status).toBe(200);
      expect(await ownerOf('elsewhere-new')).toBeNull();
    });
  });

  describe('sessions that belong to a user', () => {
    const A = 'owner-a';
    const B = 'owner-b';
    const SESSION = 'owned-by-a';
    const OTHER = 'owned-by-a-too';
    const ANONYMOUS = 'owned-by-nobody';
    const TURNS = ['first', 'second'];
    let tokenA: string;
    let tokenB: string;

    beforeAll(async () => {
      tokenA = (await mint(A)).token;
      tokenB = (await mint(B)).token;
      for (const turn of TURNS) expect((await chat(SESSION, turn, bearer(tokenA))).status).toBe(200);
      expect((await chat(OTHER, 'elsewhere', bearer(tokenA))).status).toBe(200);
      expect((await chat(ANONYMOUS, 'nobody', widget())).status).toBe(200);
    });

    it.each<[string, () => Record<string, string>]>([
      ['another user’s token', () => bearer(tokenB)],
      ['no token (anonymous)', () => widget()],
    ])('It should answer 404 to chat in A’s session with %s', async (_label, headers) => {
      // Act
      const res = await chat(SESSION, 'let me in', headers());

      // Assess
      expect(res.status).toBe(404);
      expect(errorOf(res).code).toBe('NOT_FOUND');
    });

    it.each<[string, () => Promise<string> | string]>([
      ['another token minted for A', async () => (await mint(A)).token],
      [
        'a jsonwebtoken token for A with userId',
        () => jwt.sign({ userId: A, exp: nowS() + 600 }, server.secrets.signingSecret),
      ],
    ])('It should let A continue the session with %s', async (_label, build) => {
      // Act
      const res = await chat(SESSION, 'again', bearer(await build()));

      // Assess
      expect(res.status).toBe(200);
    });

    it('It should return A’s history oldest first to A', async () => {
      // Act
      const res = await messages(SESSION, bearer(tokenA));

      // Assess
      expect(res.status).toBe(200);
      const body = res.json as List<Message>;
      expect(Object.keys(body).sort()).toEqual(['items', 'nextCursor']);
      expect(body.nextCursor).toBeNull();
      expect(body.items.slice(0, 4).map(({ role, content }) => ({ role, content }))).toEqual([
        { role: 'user', content: 'first' },
        { role: 'assistant', content: 'Echo: first' },
        { role: 'user', content: 'second' },
        { role: 'assistant', content: 'Echo: second' },
      ]);
      const times = body.items.map((m) => Date.parse(m.createdAt));
      expect(times).toEqual([...times].sort((x, y) => x - y));
      for (const item of body.items) expect(Object.keys(item).sort()).toEqual(['content', 'createdAt', 'role']);
    });

    it('It should page the history with limit=1 and return the same messages in the same order', async () => {
      // Prepare
      const all = (await messages(SESSION, bearer(tokenA))).json as List<Message>;

      // Act
      const seen: Message[] = [];
      let cursor: string | null = null;
      for (let pages = 0; pages <= all.items.length; pages += 1) {
        const query: string = cursor === null ? '?limit=1' : `?limit=1&cursor=${encodeURIComponent(cursor)}`;
        const res = await messages(SESSION, bearer(tokenA), query);
        expect(res.status).toBe(200);
        const page = res.json as List<Message>;
        expect(page.items.length).toBeLessThanOrEqual(1);
        seen.push(...page.items);
        cursor = page.nextCursor;
        if (cursor === null) break;
      }

      // Assess
      expect(cursor).toBeNull();
      expect(seen).toEqual(all.items);
    });

    it.each<[string, (cursor: string) => string, string]>([
      ['a tampered cursor', (c) => `${c.slice(0, 10)}${c[10] === 'A' ? 'B' : 'A'}${c.slice(11)}`, SESSION],
      ['a truncated cursor', (c) => c.slice(0, -2), SESSION],
      ['a cursor of another session of the same user', (c) => c, OTHER],
      ['a cursor that is not base64url', () => '!!!', SESSION],
    ])('It should answer 400 VALIDATION_FAILED to %s', async (_label, tamper, sessionId) => {
      // Prepare
      const first = (await messages(SESSION, bearer(tokenA), '?limit=1')).json as List<Message>;
      expect(first.nextCursor).toEqual(expect.any(String));

      // Act
      const res = await messages(
        sessionId,
        bearer(tokenA),
        `?limit=1&cursor=${encodeURIComponent(tamper(first.nextCursor!))}`,
      );

      // Assess
      expect(res.status).toBe(400);
      expect(errorOf(res).code).toBe('VALIDATION_FAILED');
    });

    it.each<[string, () => string, string]>([
      ['B’s token on A’s session', () => tokenB, SESSION],
      ['A’s token on an anonymous session', () => tokenA, ANONYMOUS],
      ['A’s token on a session that does not exist', () => tokenA, 'never-created'],
    ])('It should answer 404 to the history with %s', async (_label, token, sessionId) => {
      // Act
      const res = await messages(sessionId, bearer(token()));

      // Assess
      expect(res.status).toBe(404);
      expect(errorOf(res).code).toBe('NOT_FOUND');
      expect(res.text).not.toContain('first');
    });

    it('It should answer 401 to the history without a token', async () => {
      // Act
      const res = await messages(SESSION, widget());

      // Assess
      expect(res.status).toBe(401);
      expect(errorOf(res).code).toBe('UNAUTHORIZED');
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    });

    it('It should list A’s sessions, and only them, in the admin API filtered by userId', async () => {
      // Act
      const res = await admin(`/v1/admin/conversations?userId=${A}&limit=100`);

      // Assess
      expect(res.status).toBe(200);
      const items = (res.json as List<Summary>).items;
      expect(items.map((c) => c.sessionId).sort()).toEqual([OTHER, SESSION].sort());
      expect(items.every((c) => c.userId === A)).toBe(true);
    });
  });
});

describe('widget tokens over HTTP with REQUIRE_WIDGET_TOKEN, an audience and an issuer', () => {
  const AUDIENCE = 'https://widget.example.com';
  const ISSUER = 'https://customer.example.com';
  let server: RunningServer;

  const bearer = (token: string) => ({
    'X-Widget-Api-Key': server.secrets.widgetKey,
    Authorization: `Bearer ${token}`,
  });
  const chat = (sessionId: string, headers: Record<string, string>) =>
    postJson(`${server.url}/v1/chat`, { sessionId, message: 'hello' }, headers);
  const signed = (build: (jwt: SignJWT) => SignJWT) =>
    build(
      new SignJWT({ userId: 'strict-user' })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuedAt()
        .setExpirationTime('10m'),
    ).sign(key(server.secrets.signingSecret));

  beforeAll(async () => {
    server = await startTarget({
      REQUIRE_WIDGET_TOKEN: 'true',
      WIDGET_TOKEN_AUDIENCE: AUDIENCE,
      WIDGET_TOKEN_ISSUER: ISSUER,
    });
  });
  afterAll(async () => {
    await server.stop();
  });

  it.each<[string]>([['/v1/chat'], ['/chat']])('It should answer 401 to %s without a token', async (path) => {
    // Act
    const res = await postJson(
      `${server.url}${path}`,
      { sessionId: 'strict-anonymous', message: 'hello' },
      { 'X-Widget-Api-Key': server.secrets.widgetKey },
    );

    // Assess
    expect(res.status).toBe(401);
    expect(errorOf(res).code).toBe('UNAUTHORIZED');
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
  });

  it('It should mint tokens that carry the audience and issuer and are accepted', async () => {
    // Prepare
    const res = await postJson(
      `${server.url}/v1/tokens`,
      { userId: 'strict-user' },
      { Authorization: `Bearer ${server.secrets.serverKey}` },
    );
    expect(res.status).toBe(201);
    const { token } = res.json as Minted;

    // Act
    const chatRes = await chat('strict-minted', bearer(token));

    // Assess
    expect(decodeJwt(token)).toMatchObject({ aud: AUDIENCE, iss: ISSUER });
    expect(chatRes.status).toBe(200);
  });

  it('It should accept a customer token with the right aud and iss', async () => {
    // Prepare
    const token = await signed((t) => t.setAudience(AUDIENCE).setIssuer(ISSUER));

    // Act
    const res = await chat('strict-customer', bearer(token));

    // Assess
    expect(res.status).toBe(200);
  });

  it.each<[string, (t: SignJWT) => SignJWT]>([
    ['no aud', (t) => t.setIssuer(ISSUER)],
    ['another aud', (t) => t.setAudience('https://other.example').setIssuer(ISSUER)],
    ['no iss', (t) => t.setAudience(AUDIENCE)],
    ['another iss', (t) => t.setAudience(AUDIENCE).setIssuer('https://evil.example')],
  ])('It should answer 401 invalid_token to a token with %s', async (_label, build) => {
    // Prepare
    const token = await signed(build);

    // Act
    const res = await chat('strict-bad', bearer(token));

    // Assess
    expect(res.status).toBe(401);
    expect(errorOf(res).code).toBe('UNAUTHORIZED');
    expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
  });
});
