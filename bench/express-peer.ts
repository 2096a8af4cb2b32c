/**
 * The usual Express stack doing the same checks as our Middy chain on `POST /v1/chat`, as a peer
 * for the chain-overhead benchmark: request id, helmet (configured to our header set), cors with
 * the same allow-list, a JSON body with the same size limit and media-type check, the widget key
 * compared by SHA-256 digest in constant time, an optional HS256 widget token (jsonwebtoken),
 * a revocation lookup, express-rate-limit (memory store) per IP, session and user plus the
 * failed-authentication lockout, zod validation with the same schema, and one error handler that
 * answers the contract's error body.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import cors from 'cors';
import express, { type ErrorRequestHandler, type Request, type RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit, type Options } from 'express-rate-limit';
import helmet from 'helmet';
import jwt from 'jsonwebtoken';
import { chatRequestSchema } from '../lambdas/lib/schemas.js';

export interface ExpressPeerOptions {
  readonly widgetKey: string;
  readonly signingSecret: string;
  readonly allowedOrigins: readonly string[];
  readonly maxBodyBytes: number;
  /** Requests per window for every tier (the benchmark keeps them out of the way). */
  readonly limit: number;
  readonly windowMs: number;
  readonly maxTokenTtlSeconds: number;
}

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const BEARER = /^Bearer +([\x21-\x7e]+) *$/i;

interface PeerLocals {
  userId?: string;
}

/** Builds the Express peer app (a `(req, res)` listener). */
export function expressPeer(options: ExpressPeerOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const keyDigest = digest(options.widgetKey);
  const revoked = new Set<string>();
  const allowed = new Set(options.allowedOrigins);

  const requestId: RequestHandler = (req, res, next) => {
    const id = req.get('x-request-id');
    res.set('X-Request-Id', id !== undefined && REQUEST_ID.test(id) ? id : randomUUID());
    next();
  };
  const extraHeaders: RequestHandler = (_req, res, next) => {
    res.set({ 'Permissions-Policy': 'camera=(), microphone=(), geolocation=()', 'Cache-Control': 'no-store' });
    next();
  };
  const jsonOnly: RequestHandler = (req, _res, next) =>
    next(req.is('application/json') ? undefined : new HttpFailure(415, 'UNSUPPORTED_MEDIA_TYPE', 'JSON only.'));
  const widgetKey: RequestHandler = (req, _res, next) => {
    const key = req.get('x-widget-api-key') ?? '';
    next(timingSafeEqual(digest(key), keyDigest) ? undefined : new HttpFailure(401, 'UNAUTHORIZED', 'Bad key.'));
  };
  const widgetToken: RequestHandler = (req, res, next) => {
    const header = req.get('authorization');
    if (header === undefined) return next();
    const token = BEARER.exec(header)?.[1];
    try {
      if (token === undefined || token.length > 4096) throw new Error('malformed');
      const claims = jwt.verify(token, options.signingSecret, { algorithms: ['HS256'], clockTolerance: 60 });
      if (typeof claims === 'string' || claims.exp === undefined) throw new Error('no exp');
      if (claims.exp - (claims.iat ?? Date.now() / 1000) > options.maxTokenTtlSeconds) throw new Error('too long');
      const userId = claims.sub ?? (claims as { userId?: unknown }).userId;
      if (typeof userId !== 'string' || userId.length === 0) throw new Error('no identity');
      if (revoked.has(claims.jti ?? token)) throw new Error('revoked');
      (res.locals as PeerLocals).userId = userId;
      next();
    } catch {
      next(new HttpFailure(401, 'UNAUTHORIZED', 'The widget token is invalid.'));
    }
  };
  const limiter = (keyGenerator: (req: Request, res: express.Response) => string, extra: Partial<Options> = {}) =>
    rateLimit({
      windowMs: options.windowMs,
      limit: options.limit,
      standardHeaders: 'draft-8',
      legacyHeaders: true,
      keyGenerator,
      handler: (_req, _res, next) => next(new HttpFailure(429, 'RATE_LIMIT_EXCEEDED', 'Too many requests.')),
      ...extra,
    });
  const ipOf = (req: Request) => ipKeyGenerator(req.ip ?? 'unknown');
  const sessionOf = (req: Request) => {
    const session = (req.body as { sessionId?: unknown } | undefined)?.sessionId;
    return typeof session === 'string' ? session : '';
  };
  const userOf = (res: express.Response) => (res.locals as PeerLocals).userId;
  const validate: RequestHandler = (req, _res, next) => {
    const parsed = chatRequestSchema.safeParse(req.body);
    if (parsed.success) {
      req.body = parsed.data;
      return next();
    }
    next(new HttpFailure(400, 'VALIDATION_FAILED', 'The request is not valid.'));
  };
  const errors: ErrorRequestHandler = (error: unknown, _req, res, next) => {
    if (res.headersSent) return next(error);
    const failure =
      error instanceof HttpFailure
        ? error
        : (error as { type?: string }).type === 'entity.too.large'
          ? new HttpFailure(413, 'PAYLOAD_TOO_LARGE', 'Too large.')
          : (error as { type?: string }).type === 'entity.parse.failed'
            ? new HttpFailure(400, 'INVALID_JSON', 'Not JSON.')
            : new HttpFailure(500, 'INTERNAL_ERROR', 'An unexpected error occurred.');
    res.status(failure.status).json({ error: { code: failure.code, message: failure.message } });
  };

  app.use(requestId);
  app.use(
    helmet({
      contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
      frameguard: { action: 'deny' },
      referrerPolicy: { policy: 'no-referrer' },
      strictTransportSecurity: false,
      crossOriginOpenerPolicy: false,
      crossOriginResourcePolicy: false,
      originAgentCluster: false,
      xDnsPrefetchControl: false,
      xDownloadOptions: false,
      xPermittedCrossDomainPolicies: false,
      xXssProtection: false,
    }),
  );
  app.use(extraHeaders);
  app.use(
    cors({
      origin: (origin, callback) =>
        origin === undefined || allowed.has(origin)
          ? callback(null, origin ?? false)
          : callback(new HttpFailure(403, 'ORIGIN_NOT_ALLOWED', 'Origin not allowed.')),
    }),
  );
  app.post(
    '/v1/chat',
    jsonOnly,
    express.json({ limit: options.maxBodyBytes, type: 'application/json' }),
    // The failed-authentication lockout: counted per IP, given back when the request succeeds.
    limiter(ipOf, { skipSuccessfulRequests: true }),
    widgetKey,
    widgetToken,
    limiter(ipOf),
    limiter(sessionOf),
    limiter((_req, res) => userOf(res) ?? '', { skip: (_req, res) => userOf(res) === undefined }),
    validate,
    (_req, res) => {
      res.status(200).json({ ok: true });
    },
  );
  app.use(errors);
  return app;
}

/** The same route with nothing around it: what the peer's stack adds is measured against this. */
export function bareExpress(): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.post('/v1/chat', (_req, res) => {
    res.status(200).json({ ok: true });
  });
  return app;
}
