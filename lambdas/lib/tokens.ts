/**
 * Widget tokens: HS256 JWTs signed with the widget signing secret, by `POST /v1/tokens` or by
 * the customer's own backend. Verification is on jose with an algorithm allow-list of exactly
 * HS256; key-selection headers (`kid`, `jku`, `jwk`, `x5u`) are never read; `crit` is refused;
 * identity and metadata are validated with a strict zod schema. The verifier takes every accepted
 * secret (current and, during the grace period, previous) so rotation plugs in unchanged.
 */
import { createHash, randomBytes } from 'node:crypto';
import { SignJWT, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import * as z from 'zod';
import { InvalidTokenError, TokenExpiredError, ValidationError } from './errors.js';
import { isSerializedOrigin } from './origins.js';
import { userIdSchema, userMetadataSchema } from './schemas.js';

/** Tokens longer than this are refused before any parsing. */
export const MAX_TOKEN_CHARS = 4096;
/** Clock tolerance for `exp`, `nbf` and `iat`, in seconds. */
export const CLOCK_TOLERANCE_SECONDS = 60;

// The token errors live with every other error code; re-exported for the modules that import them here.

/** The claims a widget token may carry; anything else is refused. */
const claimsSchema = z
  .object({
    sub: userIdSchema.optional(),
    userId: userIdSchema.optional(),
    userMetadata: userMetadataSchema.optional(),
    jti: z.string().min(1).max(128).optional(),
    exp: z.number(),
    iat: z.number().optional(),
    nbf: z.number().optional(),
    iss: z.string().max(256).optional(),
    aud: z.union([z.string().max(256), z.array(z.string().max(256)).max(10)]).optional(),
    // Design §14: the site the token was issued for, as browsers serialize an Origin.
    origin: z.string().refine(isSerializedOrigin).optional(),
    anon: z.literal(true).optional(),
  })
  .strict();

/** What a verified token tells us. */
export interface VerifiedToken {
  readonly userId: string;
  readonly userMetadata: Readonly<Record<string, string>>;
  /** The revocation key: the `jti`, or the SHA-256 of the token when it has none. */
  readonly revocationId: string;
  /** Epoch seconds. */
  readonly exp: number;
  /** Epoch seconds; undefined when the token has no `iat`. */
  readonly iat: number | undefined;
  /** The only request `Origin` the token is good for (design §14); undefined: any allowed origin. */
  readonly origin?: string;
  /** A visitor token (`anon: true`), minted by `POST /v1/visitor-tokens`. */
  readonly anon?: boolean;
}

export interface TokenPolicy {
  readonly maxTtlSeconds: number;
  readonly audience?: string;
  readonly issuer?: string;
}

/** The revocation key of a token: its `jti`, else the SHA-256 of the whole token. */
export function revocationIdOf(token: string, jti: string | undefined): string {
  return jti ?? `sha256:${createHash('sha256').update(token, 'utf8').digest('hex')}`;
}

function checkHeader(token: string): void {
  if (token.length > MAX_TOKEN_CHARS) throw new InvalidTokenError('too_long');
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) throw new InvalidTokenError('malformed');
  // Only the canonical spelling: otherwise the spare bits of the last character would give one
  // token several spellings, and a revocation by hash would miss all but one of them.
  if (parts.some((p) => Buffer.from(p, 'base64url').toString('base64url') !== p)) {
    throw new InvalidTokenError('non_canonical');
  }
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch (error) {
    throw new InvalidTokenError('malformed', { cause: error });
  }
  if (header.alg !== 'HS256') throw new InvalidTokenError('alg');
  if (header.typ !== undefined && String(header.typ).toUpperCase() !== 'JWT') throw new InvalidTokenError('typ');
  if (header.crit !== undefined) throw new InvalidTokenError('crit');
}

/**
 * Verifies `token` against each accepted secret. Throws `TokenExpiredError` only for a token
 * whose signature is genuine; every other problem is `InvalidTokenError`.
 */
export async function verifyWidgetToken(
  token: string,
  secrets: readonly string[],
  policy: TokenPolicy,
  nowMs: number,
): Promise<VerifiedToken> {
  checkHeader(token);
  let payload: JWTPayload | undefined;
  for (const secret of secrets) {
    try {
      ({ payload } = await jwtVerify(token, new TextEncoder().encode(secret), {
        algorithms: ['HS256'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        currentDate: new Date(nowMs),
        requiredClaims: ['exp'],
        ...(policy.audience === undefined ? {} : { audience: policy.audience }),
        ...(policy.issuer === undefined ? {} : { issuer: policy.issuer }),
      }));
      break;
    } catch (error) {
      if (error instanceof joseErrors.JWSSignatureVerificationFailed) continue;
      if (error instanceof joseErrors.JWTExpired) throw new TokenExpiredError({ cause: error });
      throw new InvalidTokenError(error instanceof joseErrors.JOSEError ? error.code : 'unverifiable', {
        cause: error,
      });
    }
  }
  if (!payload) throw new InvalidTokenError('signature');

  const parsed = claimsSchema.safeParse(payload);
  if (!parsed.success) throw new InvalidTokenError('claims');
  const claims = parsed.data;
  const now = Math.floor(nowMs / 1000);
  if (claims.iat !== undefined && claims.iat > now + CLOCK_TOLERANCE_SECONDS) throw new InvalidTokenError('iat_future');
  if (claims.exp - (claims.iat ?? now) > policy.maxTtlSeconds) throw new InvalidTokenError('lifetime');
  if (claims.sub !== undefined && claims.userId !== undefined && claims.sub !== claims.userId) {
    throw new InvalidTokenError('identity_mismatch');
  }
  const userId = claims.sub ?? claims.userId;
  if (userId === undefined) throw new InvalidTokenError('no_identity');
  return {
    userId,
    userMetadata: claims.userMetadata ?? {},
    revocationId: revocationIdOf(token, claims.jti),
    exp: claims.exp,
    iat: claims.iat,
    ...(claims.origin === undefined ? {} : { origin: claims.origin }),
    ...(claims.anon === undefined ? {} : { anon: true }),
  };
}

/** A freshly minted token, as `POST /v1/tokens` returns it. */
export interface MintedToken {
  readonly token: string;
  readonly tokenType: 'Bearer';
  readonly expiresAt: string;
  readonly jti: string;
}

/**
 * Signs a token for `userId` with the current signing secret: random 128-bit `jti`, `iat`, `exp`,
 * `typ`. Throws `ValidationError` when the metadata would make it longer than `MAX_TOKEN_CHARS`.
 */
export async function mintWidgetToken(
  secret: string,
  input: {
    userId: string;
    userMetadata?: Record<string, string>;
    expiresInSeconds: number;
    /** Visitor tokens (design §14): the origin the token is bound to, and `anon: true`. */
    visitor?: { origin: string };
  },
  policy: Omit<TokenPolicy, 'maxTtlSeconds'>,
  nowMs: number,
): Promise<MintedToken> {
  const iat = Math.floor(nowMs / 1000);
  const exp = iat + input.expiresInSeconds;
  const jti = randomBytes(16).toString('base64url');
  let builder = new SignJWT({
    ...(input.userMetadata === undefined ? {} : { userMetadata: input.userMetadata }),
    ...(input.visitor === undefined ? {} : { anon: true, origin: input.visitor.origin }),
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(input.userId)
    .setJti(jti)
    .setIssuedAt(iat)
    .setExpirationTime(exp);
  if (policy.issuer !== undefined) builder = builder.setIssuer(policy.issuer);
  if (policy.audience !== undefined) builder = builder.setAudience(policy.audience);
  const token = await builder.sign(new TextEncoder().encode(secret));
  // Never hand out a token the verifier would refuse: the metadata limits allow more than fits.
  if (token.length > MAX_TOKEN_CHARS) {
    throw new ValidationError('The request is not valid.', [
      { path: 'body.userMetadata', message: `makes the token longer than ${MAX_TOKEN_CHARS} characters` },
    ]);
  }
  return { token, tokenType: 'Bearer', expiresAt: new Date(exp * 1000).toISOString(), jti };
}
