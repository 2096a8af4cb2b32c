/**
 * Origin binding of widget tokens (design §14): a token with an `origin` claim is good only with
 * a request `Origin` equal to it; the claim itself must be an origin as browsers serialize it.
 */
import { createHmac } from 'node:crypto';
import { mintWidgetToken, verifyWidgetToken } from '../../../lambdas/lib/tokens.js';
import { InvalidTokenError } from '../../../lambdas/lib/errors.js';
import { checkTokenOrigin } from '../../../lambdas/lib/token-origin.js';

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const NOW_S = NOW / 1000;
const SECRET = 'current-widget-signing-secret-0123456789abcdef';
const POLICY = { maxTtlSeconds: 7200 };
const SITE = 'https://app.example.com';

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
/** A token with exactly these claims, signed with the real secret. */
function forge(claims: Record<string, unknown>): string {
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: 'v_x', iat: NOW_S, exp: NOW_S + 600, ...claims })}`;
  return `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`;
}

async function visitorToken(origin = SITE): Promise<string> {
  const minted = await mintWidgetToken(
    SECRET,
    { userId: 'v_AAAAAAAAAAAAAAAAAAAAAA', expiresInSeconds: 600, visitor: { origin } },
    {},
    NOW,
  );
  return minted.token;
}

describe('checkTokenOrigin', () => {
  it('should carry the origin and the anon mark through minting and verification', async () => {
    // Act
    const verified = await verifyWidgetToken(await visitorToken(), [SECRET], POLICY, NOW);

    // Assess
    expect(verified).toMatchObject({ userId: 'v_AAAAAAAAAAAAAAAAAAAAAA', origin: SITE, anon: true });
  });

  it.each<[string, string | undefined, boolean]>([
    ['the exact origin', SITE, true],
    ['another scheme', 'http://app.example.com', false],
    ['another port', 'https://app.example.com:8443', false],
    ['the default port spelled out', 'https://app.example.com:443', false],
    ['another case', 'https://APP.example.com', false],
    ['a trailing slash', 'https://app.example.com/', false],
    ['a sibling subdomain', 'https://evil.example.com', false],
    ['a suffix attack', 'https://app.example.com.evil.test', false],
    ['the opaque origin', 'null', false],
    ['no Origin header', undefined, false],
  ])('should answer a request with %s: accepted %s', async (_name, requestOrigin, accepted) => {
    // Prepare
    const verified = await verifyWidgetToken(await visitorToken(), [SECRET], POLICY, NOW);

    // Act
    let error: unknown;
    try {
      checkTokenOrigin(verified, requestOrigin);
    } catch (caught) {
      error = caught;
    }

    // Assess
    if (accepted) expect(error).toBeUndefined();
    else expect(error).toMatchObject({ status: 401, code: 'UNAUTHORIZED', reason: 'origin_mismatch' });
  });

  it.each([undefined, SITE, 'http://localhost:8080'])(
    'should accept a token without an origin claim from origin %s',
    async (requestOrigin) => {
      // Prepare
      const verified = await verifyWidgetToken(forge({}), [SECRET], POLICY, NOW);

      // Act / Assess
      expect(() => checkTokenOrigin(verified, requestOrigin)).not.toThrow();
    },
  );

  it.each<[string, Record<string, unknown>]>([
    ['an upper-case origin', { origin: 'https://App.example.com' }],
    ['an origin with a trailing slash', { origin: `${SITE}/` }],
    ['an origin with a path', { origin: `${SITE}/page` }],
    ['an origin with the default port', { origin: `${SITE}:443` }],
    ['a wildcard origin', { origin: 'https://*.example.com' }],
    ['a non-string origin', { origin: ['https://app.example.com'] }],
    ['anon false', { anon: false }],
    ['anon as a string', { anon: 'true' }],
  ])('should refuse a token whose claims hold %s', async (_name, claims) => {
    // Act / Assess
    await expect(verifyWidgetToken(forge(claims), [SECRET], POLICY, NOW)).rejects.toThrow(InvalidTokenError);
  });
});
