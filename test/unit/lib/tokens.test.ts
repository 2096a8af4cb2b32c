/**
 * Widget tokens (design §4): HS256 only, with a frozen clock. Every attack is a row of a table
 * and must be refused with `InvalidTokenError` (401 `UNAUTHORIZED` with an `invalid_token`
 * challenge); only a genuine token past its `exp` is `TokenExpiredError`.
 */
import { createHash, createHmac } from 'node:crypto';
import { jest } from '@jest/globals';
import { SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import jwt, { type Algorithm } from 'jsonwebtoken';
import {
  MAX_TOKEN_CHARS,
  mintWidgetToken,
  revocationIdOf,
  verifyWidgetToken,
  type TokenPolicy,
} from '../../../lambdas/lib/tokens.js';
import { InvalidTokenError, TokenExpiredError } from '../../../lambdas/lib/errors.js';
import {
  b64,
  flipFirstBit,
  forgeJws,
  metadata,
  resign,
  respellings,
  type Claims,
  type Header,
} from '../../helpers/forged-tokens.js';

/** 2025-01-15T12:00:00Z, a whole second. */
const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const NOW_S = NOW / 1000;
const SECRET = 'current-widget-signing-secret-0123456789abcdef';
const PREVIOUS = 'previous-widget-signing-secret-0123456789abcdef';
const ATTACKER = 'attacker-chosen-secret-0123456789abcdef-attacker';
const USER = 'user-42';
const MAX_TTL = 7200;
const POLICY: TokenPolicy = { maxTtlSeconds: MAX_TTL };
const AUDIENCE = 'https://widget.example.com';
const ISSUER = 'https://customer.example.com';
const AUD_POLICY: TokenPolicy = { maxTtlSeconds: MAX_TTL, audience: AUDIENCE };
const ISS_POLICY: TokenPolicy = { maxTtlSeconds: MAX_TTL, issuer: ISSUER };
const CHALLENGE = expect.stringContaining('error="invalid_token"') as unknown;

const forge = (header: Header, claims: Claims, secret = SECRET, hash = 'sha256') =>
  forgeJws(header, claims, secret, hash);

const HS256: Header = { alg: 'HS256', typ: 'JWT' };
const claims = (extra: Claims = {}): Claims => ({ sub: USER, iat: NOW_S, exp: NOW_S + 600, ...extra });
const good = (extra: Claims = {}, secret = SECRET) => forge(HS256, claims(extra), secret);
const without = (key: string): Claims => Object.fromEntries(Object.entries(claims()).filter(([k]) => k !== key));

/** Resolves to whatever `verifyWidgetToken` throws (or fails the test when it does not). */
async function rejection(token: string, secrets: readonly string[], policy: TokenPolicy): Promise<unknown> {
  try {
    await verifyWidgetToken(token, secrets, policy, NOW);
  } catch (error) {
    return error;
  }
  throw new Error('the token was accepted');
}

function expectInvalid(error: unknown, reason: string | RegExp): void {
  expect(error).toBeInstanceOf(InvalidTokenError);
  expect(error).not.toBeInstanceOf(TokenExpiredError);
  expect(error).toMatchObject({ code: 'UNAUTHORIZED', status: 401, headers: { 'WWW-Authenticate': CHALLENGE } });
  expect((error as InvalidTokenError).reason).toMatch(reason);
}

/** A reason produced by jose itself (a JOSE error code), as opposed to one of our own checks. */
const JOSE = /^ERR_J/;
const exactly = (reason: string) => new RegExp(`^${reason}$`);

describe('verifyWidgetToken', () => {
  const hs256Body = `${b64(HS256)}.${b64(claims())}`;
  const oversize = good({ userMetadata: metadata(20, 8, 300) });

  it.each<[string, string, RegExp, TokenPolicy?]>([
    ['alg "none" with an empty signature', `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`, /./],
    ['alg "None" with an empty signature', `${b64({ alg: 'None' })}.${b64(claims())}.`, /./],
    ['alg "NONE" with an empty signature', `${b64({ alg: 'NONE' })}.${b64(claims())}.`, /./],
    ['alg "none" with a garbage signature', `${b64({ alg: 'none' })}.${b64(claims())}.Z2FyYmFnZQ`, exactly('alg')],
    ['alg "None" with a garbage signature', `${b64({ alg: 'None' })}.${b64(claims())}.Z2FyYmFnZQ`, exactly('alg')],
    ['alg "NONE" with a garbage signature', `${b64({ alg: 'NONE' })}.${b64(claims())}.Z2FyYmFnZQ`, exactly('alg')],
    ['alg "none" over a genuine HS256 signature', good().replace(/^[^.]+/, b64({ alg: 'none' })), exactly('alg')],
    ['no alg at all', forge({ typ: 'JWT' }, claims()), exactly('alg')],
    ['alg "hs256" in lower case', forge({ alg: 'hs256' }, claims()), exactly('alg')],
    ['HS384 signed with the right secret', forge({ alg: 'HS384' }, claims(), SECRET, 'sha384'), exactly('alg')],
    ['HS512 signed with the right secret', forge({ alg: 'HS512' }, claims(), SECRET, 'sha512'), exactly('alg')],
    ['an RS256 header over an HS256 signature', forge({ alg: 'RS256' }, claims()), exactly('alg')],
    ['an ES256 header over an HS256 signature', forge({ alg: 'ES256' }, claims()), exactly('alg')],
    ['a PS256 header over an HS256 signature', forge({ alg: 'PS256' }, claims()), exactly('alg')],
    ['an EdDSA header over an HS256 signature', forge({ alg: 'EdDSA' }, claims()), exactly('alg')],
    ['a token signed with another secret', good({}, ATTACKER), exactly('signature')],
    ['a signature truncated by one byte', resign(good(), (s) => s.subarray(0, s.length - 1)), exactly('signature')],
    ['a signature truncated to nothing but one byte', resign(good(), (s) => s.subarray(0, 1)), exactly('signature')],
    ['a bit-flipped signature', resign(good(), flipFirstBit), exactly('signature')],
    ['a signature of the wrong input', `${hs256Body}.${good({ sub: 'other' }).split('.')[2]}`, exactly('signature')],
    ['a missing exp', forge(HS256, without('exp')), JOSE],
    ['an exp that is a string', good({ exp: String(NOW_S + 600) }), JOSE],
    ['an nbf 61 s in the future', good({ nbf: NOW_S + 61 }), JOSE],
    ['an nbf one hour in the future', good({ nbf: NOW_S + 3600 }), JOSE],
    ['an iat 61 s in the future', good({ iat: NOW_S + 61, exp: NOW_S + 661 }), exactly('iat_future')],
    ['an iat one day in the future', good({ iat: NOW_S + 86400, exp: NOW_S + 86400 + 60 }), exactly('iat_future')],
    ['a lifetime exp − iat one second over the cap', good({ exp: NOW_S + MAX_TTL + 1 }), exactly('lifetime')],
    ['a lifetime of a year', good({ iat: NOW_S - 10, exp: NOW_S + 365 * 86400 }), exactly('lifetime')],
    [
      'a lifetime exp − now over the cap without iat',
      forge(HS256, { sub: USER, exp: NOW_S + MAX_TTL + 1 }),
      exactly('lifetime'),
    ],
    ['a crit header', forge({ ...HS256, crit: ['exp'] }, claims()), exactly('crit')],
    ['an empty crit header', forge({ ...HS256, crit: [] }, claims()), exactly('crit')],
    [
      'a jku header, signed with the attacker key',
      forge({ ...HS256, jku: 'https://attacker.example/jwks.json' }, claims(), ATTACKER),
      exactly('signature'),
    ],
    [
      'a jwk header carrying the attacker key',
      forge({ ...HS256, jwk: { kty: 'oct', k: b64(ATTACKER) } }, claims(), ATTACKER),
      exactly('signature'),
    ],
    [
      'an x5u header, signed with the attacker key',
      forge({ ...HS256, x5u: 'https://attacker.example/cert.pem' }, claims(), ATTACKER),
      exactly('signature'),
    ],
    ['a kid naming the attacker key', forge({ ...HS256, kid: 'attacker' }, claims(), ATTACKER), exactly('signature')],
    ['a kid path traversal', forge({ ...HS256, kid: '../../dev/null' }, claims(), ''), exactly('signature')],
    ['two segments', hs256Body, exactly('malformed')],
    ['four segments', `${good()}.${b64('extra')}`, exactly('malformed')],
    ['an empty header segment', `.${good().split('.').slice(1).join('.')}`, exactly('malformed')],
    ['an empty payload segment', `${b64(HS256)}..${good().split('.')[2]}`, exactly('malformed')],
    ['three empty segments', '..', exactly('malformed')],
    ['the empty string', '', exactly('malformed')],
    ['padding in a segment', `${good()}=`, exactly('malformed')],
    ['standard base64 characters', good().replace(/^./, '+'), exactly('malformed')],
    ['a header that is not JSON', `${b64('not json')}.${b64(claims())}.c2ln`, exactly('malformed')],
    ['a genuinely signed payload that is not JSON', signRaw(b64(HS256), b64('not json')), JOSE],
    [`a token over ${MAX_TOKEN_CHARS} characters`, oversize, exactly('too_long')],
    ['sub and userId that differ', good({ userId: 'someone-else' }), exactly('identity_mismatch')],
    ['neither sub nor userId', forge(HS256, without('sub')), exactly('no_identity')],
    ['a userId with a space', forge(HS256, { ...without('sub'), userId: 'a b' }), exactly('claims')],
    ['a numeric userId', forge(HS256, { ...without('sub'), userId: 42 }), exactly('claims')],
    ['a sub of 129 characters', good({ sub: 'u'.repeat(129) }), exactly('claims')],
    ['userMetadata with 21 keys', good({ userMetadata: metadata(21) }), exactly('claims')],
    ['userMetadata with a key of 65 characters', good({ userMetadata: metadata(1, 65) }), exactly('claims')],
    ['userMetadata with a value of 513 characters', good({ userMetadata: metadata(1, 8, 513) }), exactly('claims')],
    ['userMetadata with a number value', good({ userMetadata: { plan: 3 } }), exactly('claims')],
    ['userMetadata with a nested object', good({ userMetadata: { plan: { tier: 'pro' } } }), exactly('claims')],
    ['userMetadata that is a string', good({ userMetadata: 'admin' }), exactly('claims')],
    ['an unknown claim (role)', good({ role: 'admin' }), exactly('claims')],
    ['an unknown claim (scope)', good({ scope: 'admin:*' }), exactly('claims')],
    ['a jti of 129 characters', good({ jti: 'j'.repeat(129) }), exactly('claims')],
    ['an empty jti', good({ jti: '' }), exactly('claims')],
    ['typ "at+jwt"', forge({ alg: 'HS256', typ: 'at+jwt' }, claims()), exactly('typ')],
    ['typ "JWE"', forge({ alg: 'HS256', typ: 'JWE' }, claims()), exactly('typ')],
    ['an aud that does not match the configured audience', good({ aud: 'https://other.example' }), JOSE, AUD_POLICY],
    ['no aud when an audience is configured', good(), JOSE, AUD_POLICY],
    ['an iss that does not match the configured issuer', good({ iss: 'https://evil.example' }), JOSE, ISS_POLICY],
    ['no iss when an issuer is configured', good(), JOSE, ISS_POLICY],
  ])('It should refuse %s', async (_label, token, reason, policy = POLICY) => {
    // Act
    const error = await rejection(token, [SECRET], policy);

    // Assess
    expectInvalid(error, reason);
  });

  it('It should make the oversize row fail on length alone', async () => {
    // Prepare: the same claims in a token just under the limit are fine.
    const fits = good({ userMetadata: metadata(20, 8, 100) });

    // Act
    const verified = await verifyWidgetToken(fits, [SECRET], POLICY, NOW);

    // Assess
    expect(oversize.length).toBeGreaterThan(MAX_TOKEN_CHARS);
    expect(fits.length).toBeLessThanOrEqual(MAX_TOKEN_CHARS);
    expect(verified.userId).toBe(USER);
  });

  it.each<[string, string]>([
    ['HS384', 'sha384'],
    ['HS512', 'sha512'],
  ])('It should refuse a jsonwebtoken %s token signed with the right secret', async (alg) => {
    // Prepare
    const token = jwt.sign({ userId: USER, exp: NOW_S + 600 }, SECRET, {
      algorithm: alg as Algorithm,
      noTimestamp: true,
    });

    // Act
    const error = await rejection(token, [SECRET], POLICY);

    // Assess
    expect(decodeProtectedHeader(token).alg).toBe(alg);
    expectInvalid(error, exactly('alg'));
  });

  it.each<[string, number]>([
    ['61 s ago', NOW_S - 61],
    ['one hour ago', NOW_S - 3600],
    ['at the epoch', 1],
  ])('It should answer TOKEN_EXPIRED for a genuine token that expired %s', async (_label, exp) => {
    // Prepare
    const token = good({ iat: exp - 600, exp });

    // Act
    const error = await rejection(token, [SECRET], POLICY);

    // Assess
    expect(error).toBeInstanceOf(TokenExpiredError);
    expect(error).toMatchObject({
      code: 'TOKEN_EXPIRED',
      status: 401,
      reason: 'expired',
      headers: { 'WWW-Authenticate': CHALLENGE },
    });
  });

  it.each<[string, string, RegExp]>([
    ['signed with another secret', good({ exp: NOW_S - 3600 }, ATTACKER), exactly('signature')],
    ['with a bit-flipped signature', resign(good({ exp: NOW_S - 3600 }), flipFirstBit), exactly('signature')],
    ['with alg "none"', `${b64({ alg: 'none' })}.${b64(claims({ exp: NOW_S - 3600 }))}.`, /./],
    ['signed with HS512', forge({ alg: 'HS512' }, claims({ exp: NOW_S - 3600 }), SECRET, 'sha512'), exactly('alg')],
  ])('It should answer UNAUTHORIZED, not TOKEN_EXPIRED, for an expired token %s', async (_label, token, reason) => {
    // Act
    const error = await rejection(token, [SECRET], POLICY);

    // Assess
    expectInvalid(error, reason);
  });

  it.each<[string, string, TokenPolicy?]>([
    ['an exp 30 s ago (within the clock tolerance)', good({ iat: NOW_S - 600, exp: NOW_S - 30 })],
    ['an exp 59 s ago (within the clock tolerance)', good({ iat: NOW_S - 600, exp: NOW_S - 59 })],
    ['an nbf 30 s in the future', good({ nbf: NOW_S + 30 })],
    ['an nbf in the past', good({ nbf: NOW_S - 30 })],
    ['an iat 60 s in the future', good({ iat: NOW_S + 60, exp: NOW_S + 660 })],
    ['a lifetime exp − iat of exactly the cap', good({ exp: NOW_S + MAX_TTL })],
    ['a lifetime exp − now of exactly the cap without iat', forge(HS256, { sub: USER, exp: NOW_S + MAX_TTL })],
    ['no typ header', forge({ alg: 'HS256' }, claims())],
    ['typ "jwt" in lower case', forge({ alg: 'HS256', typ: 'jwt' }, claims())],
    ['a kid header (ignored)', forge({ ...HS256, kid: 'whatever' }, claims())],
    ['a matching aud', good({ aud: AUDIENCE }), AUD_POLICY],
    ['an aud list holding the audience', good({ aud: ['https://other.example', AUDIENCE] }), AUD_POLICY],
    ['a matching iss', good({ iss: ISSUER }), ISS_POLICY],
    ['an aud and iss when none is configured', good({ aud: 'anything', iss: 'anyone' })],
    [`exactly ${MAX_TOKEN_CHARS} characters`, exactSize(MAX_TOKEN_CHARS)],
  ])('It should accept a genuine token with %s', async (_label, token, policy = POLICY) => {
    // Act
    const verified = await verifyWidgetToken(token, [SECRET], policy, NOW);

    // Assess
    const payload = decodeJwt(token);
    expect(verified).toEqual({
      userId: USER,
      userMetadata: payload.userMetadata ?? {},
      revocationId: `sha256:${createHash('sha256').update(token).digest('hex')}`,
      exp: payload.exp,
      iat: payload.iat,
    });
  });

  it.each<[string, Claims]>([
    ['sub only', { sub: USER }],
    ['userId only', { userId: USER }],
    ['sub and userId that agree', { sub: USER, userId: USER }],
  ])('It should take the identity from %s', async (_label, identity) => {
    // Prepare
    const token = forge(HS256, { ...identity, exp: NOW_S + 600 });

    // Act
    const verified = await verifyWidgetToken(token, [SECRET], POLICY, NOW);

    // Assess
    expect(verified.userId).toBe(USER);
    expect(verified.iat).toBeUndefined();
  });

  it.each<[string, Record<string, string>]>([
    ['20 keys', metadata(20)],
    ['a key of 64 characters', metadata(1, 64)],
    ['a value of 512 characters', metadata(1, 8, 512)],
    ['an empty value', { plan: '' }],
  ])('It should accept userMetadata at its limit: %s', async (_label, userMetadata) => {
    // Prepare
    const token = forge({ alg: 'HS256' }, { userId: USER, userMetadata, exp: NOW_S + 600 });

    // Act
    const verified = await verifyWidgetToken(token, [SECRET], POLICY, NOW);

    // Assess
    expect(verified.userMetadata).toEqual(userMetadata);
  });

  it('It should give the same token one revocation id however its signature is spelled (unused base64url bits)', async () => {
    // Prepare: a token without jti is revoked by the hash of its text; these spellings decode to the same signature.
    const token = forge(HS256, { userId: USER, exp: NOW_S + 600 });
    const spellings = respellings(token);
    const { revocationId } = await verifyWidgetToken(token, [SECRET], POLICY, NOW);

    // Act
    const outcomes = await Promise.all(
      spellings.map((spelling) =>
        verifyWidgetToken(spelling, [SECRET], POLICY, NOW).then(
          (verified) => verified.revocationId,
          () => 'refused',
        ),
      ),
    );

    // Assess: refusing a non-canonical spelling is fine; accepting it under another revocation id is not.
    expect(spellings).toHaveLength(3);
    for (const outcome of outcomes) expect([revocationId, 'refused']).toContain(outcome);
  });

  it('It should take the jti as the revocation id', async () => {
    // Prepare
    const token = good({ jti: 'jti-123' });

    // Act
    const verified = await verifyWidgetToken(token, [SECRET], POLICY, NOW);

    // Assess
    expect(verified.revocationId).toBe('jti-123');
  });

  describe('with the previous secret during rotation', () => {
    it('It should accept a token signed with the previous secret when verifying against [current, previous]', async () => {
      // Prepare
      const token = good({}, PREVIOUS);

      // Act
      const verified = await verifyWidgetToken(token, [SECRET, PREVIOUS], POLICY, NOW);

      // Assess
      expect(verified.userId).toBe(USER);
    });

    it('It should refuse the same token once the previous secret is no longer accepted', async () => {
      // Prepare
      const token = good({}, PREVIOUS);

      // Act
      const error = await rejection(token, [SECRET], POLICY);

      // Assess
      expectInvalid(error, exactly('signature'));
    });

    it('It should answer TOKEN_EXPIRED for an expired token signed with the previous secret', async () => {
      // Prepare
      const token = good({ exp: NOW_S - 3600 }, PREVIOUS);

      // Act
      const error = await rejection(token, [SECRET, PREVIOUS], POLICY);

      // Assess
      expect(error).toBeInstanceOf(TokenExpiredError);
    });

    it('It should refuse a token signed with neither secret', async () => {
      // Act
      const error = await rejection(good({}, ATTACKER), [SECRET, PREVIOUS], POLICY);

      // Assess
      expectInvalid(error, exactly('signature'));
    });
  });

  describe('with tokens from the customer backend libraries', () => {
    beforeEach(() => {
      // Only Date is frozen: jsonwebtoken and jose stamp `iat` from it; promises keep running.
      jest.useFakeTimers({
        now: NOW,
        doNotFake: [
          'hrtime',
          'nextTick',
          'performance',
          'queueMicrotask',
          'setImmediate',
          'clearImmediate',
          'setInterval',
          'clearInterval',
          'setTimeout',
          'clearTimeout',
        ],
      });
    });
    afterEach(() => {
      jest.useRealTimers();
    });

    const userMetadata = { name: 'Ada Lovelace', email: 'ada@example.com', plan: 'pro' };

    it('It should accept jsonwebtoken’s jwt.sign({ userId, userMetadata, exp }, secret) as is', async () => {
      // Prepare
      const exp = NOW_S + 3600;
      const token = jwt.sign({ userId: USER, userMetadata, exp }, SECRET);

      // Act
      const verified = await verifyWidgetToken(token, [SECRET], POLICY, NOW);

      // Assess
      expect(decodeProtectedHeader(token)).toEqual({ alg: 'HS256', typ: 'JWT' });
      expect(verified).toEqual({
        userId: USER,
        userMetadata,
        revocationId: `sha256:${createHash('sha256').update(token).digest('hex')}`,
        exp,
        iat: NOW_S,
      });
    });

    it('It should accept a jsonwebtoken token without iat (noTimestamp)', async () => {
      // Prepare
      const token = jwt.sign({ userId: USER, userMetadata, exp: NOW_S + 3600 }, SECRET, { noTimestamp: true });

      // Act
      const verified = await verifyWidgetToken(token, [SECRET], POLICY, NOW);

      // Assess
      expect(decodeJwt(token)).toEqual({ userId: USER, userMetadata, exp: NOW_S + 3600 });
      expect(verified).toMatchObject({ userId: USER, userMetadata, iat: undefined });
    });

    it('It should accept a jsonwebtoken token made with expiresIn and subject', async () => {
      // Prepare
      const token = jwt.sign({ userMetadata }, SECRET, { expiresIn: 600, subject: USER, jwtid: 'jti-jsonwebtoken' });

      // Act
      const verified = await verifyWidgetToken(token, [SECRET], POLICY, NOW);

      // Assess
      expect(verified).toEqual({
        userId: USER,
        userMetadata,
        revocationId: 'jti-jsonwebtoken',
        exp: NOW_S + 600,
        iat: NOW_S,
      });
    });

    it('It should refuse a jsonwebtoken token whose expiresIn exceeds the cap', async () => {
      // Prepare
      const token = jwt.sign({ userId: USER }, SECRET, { expiresIn: MAX_TTL + 1 });

      // Act
      const error = await rejection(token, [SECRET], POLICY);

      // Assess
      expectInvalid(error, exactly('lifetime'));
    });

    it('It should accept a jose SignJWT token', async () => {
      // Prepare
      const token = await new SignJWT({ userId: USER, userMetadata })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode(SECRET));

      // Act
      const verified = await verifyWidgetToken(token, [SECRET], POLICY, NOW);

      // Assess
      expect(verified).toMatchObject({ userId: USER, userMetadata, exp: NOW_S + 3600, iat: NOW_S });
    });

    it('It should accept a jose SignJWT token with sub, jti, aud and iss', async () => {
      // Prepare
      const token = await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(USER)
        .setJti('jti-jose')
        .setAudience(AUDIENCE)
        .setIssuer(ISSUER)
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(new TextEncoder().encode(SECRET));

      // Act
      const verified = await verifyWidgetToken(
        token,
        [SECRET],
        { maxTtlSeconds: MAX_TTL, audience: AUDIENCE, issuer: ISSUER },
        NOW,
      );

      // Assess
      expect(verified).toEqual({
        userId: USER,
        userMetadata: {},
        revocationId: 'jti-jose',
        exp: NOW_S + 600,
        iat: NOW_S,
      });
    });

    it('It should refuse a jose SignJWT token signed with HS512', async () => {
      // Prepare
      const token = await new SignJWT({ userId: USER })
        .setProtectedHeader({ alg: 'HS512' })
        .setExpirationTime('10m')
        .sign(new TextEncoder().encode(SECRET.repeat(2)));

      // Act
      const error = await rejection(token, [SECRET.repeat(2)], POLICY);

      // Assess
      expectInvalid(error, exactly('alg'));
    });
  });
});

describe('mintWidgetToken', () => {
  it('It should sign an HS256 JWT with sub, a random jti, iat, exp and typ', async () => {
    // Act
    const minted = await mintWidgetToken(SECRET, { userId: USER, expiresInSeconds: 900 }, {}, NOW);

    // Assess
    expect(minted).toEqual({
      token: expect.any(String) as unknown,
      tokenType: 'Bearer',
      expiresAt: '2025-01-15T12:15:00.000Z',
      jti: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/) as unknown,
    });
    expect(decodeProtectedHeader(minted.token)).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(decodeJwt(minted.token)).toEqual({ sub: USER, jti: minted.jti, iat: NOW_S, exp: NOW_S + 900 });
  });

  it('It should mint tokens that the verifier accepts, with the jti as revocation id', async () => {
    // Prepare
    const userMetadata = { plan: 'pro' };
    const minted = await mintWidgetToken(SECRET, { userId: USER, userMetadata, expiresInSeconds: MAX_TTL }, {}, NOW);

    // Act
    const verified = await verifyWidgetToken(minted.token, [SECRET], POLICY, NOW);

    // Assess
    expect(verified).toEqual({
      userId: USER,
      userMetadata,
      revocationId: minted.jti,
      exp: NOW_S + MAX_TTL,
      iat: NOW_S,
    });
  });

  it('It should never mint a token that the verifier refuses, even with the largest userMetadata allowed', async () => {
    // Prepare: 20 keys of 64 characters with values of 512 characters pass the metadata schema.
    const userMetadata = Object.fromEntries(
      Array.from({ length: 20 }, (_, i) => [`${i}`.padStart(64, 'k'), 'v'.repeat(512)]),
    );

    // Act
    const outcome = await mintWidgetToken(SECRET, { userId: USER, userMetadata, expiresInSeconds: 60 }, {}, NOW).then(
      (minted) =>
        verifyWidgetToken(minted.token, [SECRET], POLICY, NOW).then(
          () => 'usable',
          (error: InvalidTokenError) => `minted (${minted.token.length} chars), then refused: ${error.reason}`,
        ),
      () => 'refused at minting',
    );

    // Assess: refusing at minting is fine; handing out a token that can never be used is not.
    expect(['usable', 'refused at minting']).toContain(outcome);
  });

  it('It should give every token its own jti', async () => {
    // Act
    const tokens = await Promise.all(
      Array.from({ length: 20 }, () => mintWidgetToken(SECRET, { userId: USER, expiresInSeconds: 60 }, {}, NOW)),
    );

    // Assess
    expect(new Set(tokens.map((t) => t.jti)).size).toBe(20);
  });

  it('It should set aud and iss when configured, and pass the matching policy', async () => {
    // Prepare
    const minted = await mintWidgetToken(
      SECRET,
      { userId: USER, expiresInSeconds: 60 },
      { audience: AUDIENCE, issuer: ISSUER },
      NOW,
    );

    // Act
    const verified = await verifyWidgetToken(
      minted.token,
      [SECRET],
      { maxTtlSeconds: MAX_TTL, audience: AUDIENCE, issuer: ISSUER },
      NOW,
    );

    // Assess
    expect(decodeJwt(minted.token)).toMatchObject({ aud: AUDIENCE, iss: ISSUER });
    expect(verified.userId).toBe(USER);
  });

  it('It should mint a token that a policy with another audience refuses', async () => {
    // Prepare
    const minted = await mintWidgetToken(SECRET, { userId: USER, expiresInSeconds: 60 }, { audience: 'a' }, NOW);

    // Act
    const error = await rejection(minted.token, [SECRET], AUD_POLICY);

    // Assess
    expectInvalid(error, JOSE);
  });

  it('It should mint a token that expires: TOKEN_EXPIRED 61 s after exp', async () => {
    // Prepare
    const minted = await mintWidgetToken(SECRET, { userId: USER, expiresInSeconds: 60 }, {}, NOW);

    // Act
    const error = await verifyWidgetToken(minted.token, [SECRET], POLICY, NOW + 121_000).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(TokenExpiredError);
  });
});

describe('revocationIdOf', () => {
  it.each<[string, string, string | undefined, string]>([
    ['the jti when there is one', 'a.b.c', 'jti-1', 'jti-1'],
    [
      'sha256:<hex> of the whole token without jti',
      'a.b.c',
      undefined,
      `sha256:${createHash('sha256').update('a.b.c').digest('hex')}`,
    ],
  ])('It should return %s', (_label, token, jti, expected) => {
    // Act
    const id = revocationIdOf(token, jti);

    // Assess
    expect(id).toBe(expected);
  });

  it('It should give different tokens without jti different ids', () => {
    // Act
    const ids = [good(), good({ exp: NOW_S + 601 })].map((t) => revocationIdOf(t, undefined));

    // Assess
    expect(ids[0]).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(ids[0]).not.toBe(ids[1]);
  });
});

/** Signs an arbitrary header and payload segment pair with the current secret. */
function signRaw(header: string, payload: string): string {
  const input = `${header}.${payload}`;
  return `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`;
}

/** A genuine token of exactly `chars` characters, padded through metadata values (base64 grows unevenly). */
function exactSize(chars: number): string {
  for (let keyChars = 1; keyChars <= 3; keyChars += 1) {
    for (let pad = 0; pad <= 512; pad += 1) {
      const token = forge(
        HS256,
        claims({ userMetadata: { ...metadata(5, 8, 500), ['p'.repeat(keyChars)]: 'x'.repeat(pad) } }),
      );
      if (token.length === chars) return token;
      if (token.length > chars) break;
    }
  }
  throw new Error(`no token of exactly ${chars} characters`);
}
