/**
 * The one place the security chain is assembled (design §6). Each Lambda entry declares what
 * it needs (credential, schemas) and a few lines of business logic; `defineHandler` wraps it in
 * the same Middy chain, in the same order, for Lambda and for the local server alike.
 */
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { ZodType, z } from 'zod';
import { adminAudit } from './middleware/audit.js';
import { auth, type AuthKind } from './middleware/auth.js';
import { bodyLimit } from './middleware/body-limit.js';
import { cors } from './middleware/cors.js';
import { errorMapper } from './middleware/errors.js';
import { requestContext } from './middleware/request-context.js';
import { rateLimit, rateLimitHeaders } from './middleware/rate-limit.js';
import { revocation } from './middleware/revocation.js';
import { securityHeaders } from './middleware/security-headers.js';
import { spend } from './middleware/spend.js';
import { validate } from './middleware/validate.js';
import { lockoutFor, tiersFor } from './rate-limit-tiers.js';
import { isAdminPath, requiredRole } from './routes.js';
import { routePath, type AppContext, type AppRequest, type RequestState } from './request.js';
import { getLambdaRuntime, type Runtime } from '../lib/runtime.js';
import { streamingLambda, type StreamingLambdaHandler, type StreamingResult } from './streaming.js';

type Schema = ZodType | undefined;
type Out<S extends Schema> = S extends ZodType ? z.output<S> : undefined;

/** What a handler receives: validated input, the request state and the runtime. */
export interface HandlerInput<B extends Schema, Q extends Schema, P extends Schema> {
  readonly body: Out<B>;
  readonly query: Out<Q>;
  readonly params: Out<P>;
  readonly event: APIGatewayProxyEvent;
  /** The Lambda context (its deadline bounds the work). */
  readonly context: Context;
  readonly state: RequestState;
  readonly runtime: Runtime;
}

/** A Lambda entry: its credential, its schemas, and its business logic. */
export interface HandlerSpec<B extends Schema, Q extends Schema, P extends Schema> {
  /** The credential this route takes. */
  readonly auth: AuthKind;
  /**
   * Widget routes: whether a widget token is required (`required`) or accepted when present
   * (`optional`, which `REQUIRE_WIDGET_TOKEN=true` turns into required).
   * @default 'optional'
   */
  readonly token?: 'optional' | 'required';
  /** The JSON body schema; routes without one take no body. */
  readonly body?: B;
  readonly query?: Q;
  readonly params?: P;
  /** Which CORS allow-list applies: admin routes use `ADMIN_CORS_ORIGIN`. @default admin when `auth` is admin, else by path */
  readonly corsList?: 'widget' | 'admin' | 'by-path';
  /**
   * Whether the route streams its body: the Lambda export is then a response-streaming handler
   * (API Gateway `STREAM` transfer mode) and `run` may answer with a `Readable` body.
   * @default false
   */
  readonly stream?: boolean;
  /**
   * A chat route: the pause switch applies and each turn reserves its tokens (design §12).
   * @default false
   */
  readonly metered?: boolean;
  readonly run: (input: HandlerInput<B, Q, P>) => Promise<HandlerResult>;
}

/** What a chain answers: a proxy result, whose body may be a stream on streaming routes. */
export type HandlerResult = APIGatewayProxyResult | StreamingResult;

export type LambdaHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<HandlerResult>;

/** A defined handler: the Lambda export, and `build` for hosts that bring their own runtime. */
export interface DefinedHandler {
  readonly handler: LambdaHandler | StreamingLambdaHandler;
  readonly build: (runtime: Runtime) => LambdaHandler;
}

/** Wraps `spec` in the security chain; the Lambda runtime is built on the first invocation. */
export function defineHandler<B extends Schema = undefined, Q extends Schema = undefined, P extends Schema = undefined>(
  spec: HandlerSpec<B, Q, P>,
): DefinedHandler {
  const build = (runtime: Runtime): LambdaHandler => {
    const { config, audit, clock, logger } = runtime;
    const list = spec.corsList ?? (spec.auth === 'admin' ? 'admin' : 'widget');
    const widgetRules =
      config.corsOrigins.length > 0 || config.production ? config.corsOrigins : [{ kind: 'any' as const }];
    const rulesFor = (request: AppRequest) =>
      list === 'admin' || (list === 'by-path' && isAdminPath(routePath(request.event)))
        ? config.adminCorsOrigins
        : widgetRules;

    const lockout = lockoutFor(config);
    const chain = middy<APIGatewayProxyEvent, HandlerResult, Error, AppContext>()
      .use(httpHeaderNormalizer())
      .use(requestContext({ logger, clock }))
      .use(securityHeaders({ production: config.production }))
      .use(cors({ rulesFor, audit, clock }))
      .use(rateLimitHeaders({ windowMs: config.rateLimit.windowMs, clock }))
      .use(errorMapper({ logger }))
      .use(bodyLimit({ maxBytes: config.maxBodyBytes, json: spec.body !== undefined }));
    if (spec.auth !== 'none') {
      chain.use(
        auth({
          kind: spec.auth,
          secrets: runtime.secrets,
          graceSeconds: config.secretGraceSeconds,
          keys: runtime.apiKeys,
          role: (request) => requiredRole(request.event.httpMethod, request.event.resource),
          requireToken: spec.token === 'required' || config.requireWidgetToken,
          tokenPolicy: {
            maxTtlSeconds: config.widgetTokenMaxTtlSeconds,
            audience: config.widgetTokenAudience,
            issuer: config.widgetTokenIssuer,
          },
          lockout: { limiter: runtime.rateLimiter, check: lockout, failOpen: config.rateLimit.failOpen },
          audit,
          clock,
        }),
      );
    }
    if (spec.auth === 'widget') chain.use(revocation({ store: runtime.revocations, audit, clock }));
    if (spec.auth === 'admin') chain.use(adminAudit({ audit, clock }));
    if (spec.metered) chain.use(spend({ runtime, stream: spec.stream ?? false }));
    if (spec.auth !== 'none') {
      chain.use(
        rateLimit({
          limiter: runtime.rateLimiter,
          tiers: tiersFor(spec.auth, config),
          lockout,
          failOpen: config.rateLimit.failOpen,
          audit,
          logger,
          clock,
        }),
      );
    }
    chain.use(validate({ body: spec.body, query: spec.query, params: spec.params }));
    const handler = chain.handler(async (event, context) => {
      const state = context.app;
      return spec.run({
        body: state.input?.body as Out<B>,
        query: state.input?.query as Out<Q>,
        params: state.input?.params as Out<P>,
        event,
        context,
        state,
        runtime,
      });
    });
    return handler as unknown as LambdaHandler;
  };

  let lambda: LambdaHandler | undefined;
  const lazy: LambdaHandler = (event, context) => (lambda ??= build(getLambdaRuntime()))(event, context);
  return { handler: spec.stream ? streamingLambda(lazy) : lazy, build };
}
