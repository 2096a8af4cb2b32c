/**
 * The one place the security chain is assembled (design §6). Each Lambda entry names its route
 * of the table (credential, schemas: `routes.ts`) and gives a few lines of business logic; `defineHandler` wraps it in
 * the same Middy chain, in the same order, for Lambda and for the local server alike.
 */
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { ZodType, z } from 'zod';
import { adminAudit } from './middleware/audit.js';
import { auth } from './middleware/auth/index.js';
import { bodyLimit } from './middleware/body-limit.js';
import { awaitChecks } from './middleware/checks.js';
import { cors } from './middleware/cors.js';
import { errorMapper } from './middleware/errors.js';
import { requestContext } from './middleware/request-context.js';
import { rateLimit, rateLimitHeaders } from './middleware/rate-limit.js';
import { mergeHeaderCase, repeatedHeaders } from './middleware/repeated-headers.js';
import { revocation } from './middleware/revocation.js';
import { securityHeaders } from './middleware/security-headers.js';
import { spend } from './middleware/spend.js';
import { validate } from './middleware/validate.js';
import { abuseFor, lockoutFor, tiersFor } from './rate-limit-tiers.js';
import { isAdminPath, requiredRole, resourceFor, type HandlerFacts, type Schema } from './routes.js';
import { routePath, type AppContext, type AppRequest, type RequestState } from './request.js';
import { getLambdaRuntime, type Runtime } from '../lib/runtime.js';
import { streamingLambda, type StreamingLambdaHandler, type StreamingResult } from './streaming.js';

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

/** The business logic of a Lambda entry: validated input in, a proxy result out. */
export type HandlerRun<B extends Schema, Q extends Schema, P extends Schema> = (
  input: HandlerInput<B, Q, P>,
) => Promise<HandlerResult>;

/** What a chain answers: a proxy result, whose body may be a stream on streaming routes. */
export type HandlerResult = APIGatewayProxyResult | StreamingResult;

export type LambdaHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<HandlerResult>;

/** A defined handler: the Lambda export, and `build` for hosts that bring their own runtime. */
export interface DefinedHandler {
  /** The route facts the chain was built from. */
  readonly facts: HandlerFacts;
  readonly handler: LambdaHandler | StreamingLambdaHandler;
  readonly build: (runtime: Runtime) => LambdaHandler;
}

/**
 * Wraps `run` in the security chain that `facts` call for: a route of the table
 * (`route('POST /v1/chat')`), or `FALLBACK`. The Lambda runtime is built on the first invocation.
 */
export function defineHandler<B extends Schema = undefined, Q extends Schema = undefined, P extends Schema = undefined>(
  facts: HandlerFacts<B, Q, P>,
  run: HandlerRun<B, Q, P>,
): DefinedHandler {
  const build = (runtime: Runtime): LambdaHandler => {
    const { config, audit, clock, logger } = runtime;
    const list = facts.corsList ?? (facts.auth === 'admin' ? 'admin' : 'widget');
    const widgetRules =
      config.corsOrigins.length > 0 || config.production ? config.corsOrigins : [{ kind: 'any' as const }];
    const rulesFor = (request: AppRequest) => {
      if (list !== 'by-path') return list === 'admin' ? config.adminCorsOrigins : widgetRules;
      // Only a path of the route table takes a list: `/V1/ADMIN/audit` and the like get no grant.
      const path = routePath(request.event);
      if (resourceFor(path) === undefined) return undefined;
      return isAdminPath(path) ? config.adminCorsOrigins : widgetRules;
    };

    const lockout = lockoutFor(config);
    const chain = middy<APIGatewayProxyEvent, HandlerResult, Error, AppContext>()
      .use(mergeHeaderCase())
      .use(httpHeaderNormalizer())
      .use(requestContext({ logger, clock }))
      .use(repeatedHeaders())
      .use(securityHeaders({ production: config.production }))
      .use(cors({ rulesFor, audit, clock }))
      .use(rateLimitHeaders({ windowMs: config.rateLimit.windowMs, clock }))
      .use(errorMapper({ logger }))
      .use(bodyLimit({ maxBytes: config.maxBodyBytes, json: facts.body !== undefined }));
    if (facts.auth !== 'none') {
      chain.use(
        auth({
          kind: facts.auth,
          secrets: runtime.secrets,
          graceSeconds: config.secretGraceSeconds,
          keys: runtime.apiKeys,
          role: (request) => requiredRole(request.event.httpMethod, request.event.resource),
          requireToken: facts.token === 'required' || (facts.token !== 'never-required' && config.requireWidgetToken),
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
    if (facts.auth === 'widget') chain.use(revocation({ store: runtime.revocations, audit, clock }));
    if (facts.auth === 'admin') chain.use(adminAudit({ audit, clock }));
    if (facts.metered) chain.use(spend({ runtime, stream: facts.stream ?? false }));
    if (facts.auth !== 'none') {
      chain.use(
        rateLimit({
          limiter: runtime.rateLimiter,
          tiers: tiersFor(facts.auth, config, facts.extraTier),
          lockout,
          ...(facts.auth === 'widget' ? { abuse: abuseFor(config) } : {}),
          failOpen: config.rateLimit.failOpen,
          audit,
          logger,
          clock,
        }),
      );
      chain.use(awaitChecks());
    }
    chain.use(validate({ body: facts.body, query: facts.query, params: facts.params }));
    const handler = chain.handler(async (event, context) => {
      const state = context.app;
      return run({
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
  return { handler: facts.stream ? streamingLambda(lazy) : lazy, build, facts };
}
