/**
 * `POST /v1/visitor-tokens` (widget key, allowed `Origin`): redeems a proof of work (with
 * `VISITOR_CHALLENGE=pow`; the WAF has checked its own challenge with `waf`) for a visitor token
 * bound to the request's `Origin`. Rate-limited per client address (`VISITOR_TOKEN_RATE_LIMIT_MAX`).
 */
import { defineHandler } from '../http/handler.js';
import { json } from '../http/responses.js';
import { route } from '../http/routes.js';
import { redeemSolution } from '../lib/visitors/redeem.js';
import { mintVisitorToken, visitorOrigin } from '../lib/visitors/visitor-token.js';

export const { handler, build, facts } = defineHandler(
  route('POST /v1/visitor-tokens'),
  async ({ body, state, runtime }) => {
    const { config } = runtime;
    const origin = visitorOrigin(state.corsOrigin);
    if (config.visitor.challenge === 'pow') await redeemSolution(runtime, state, body.pow);
    const secret = (await runtime.secrets.get())['widget-signing-secret'].current.value;
    const minted = await mintVisitorToken(
      secret,
      { origin, ttlSeconds: config.visitor.tokenTtlSeconds },
      { audience: config.widgetTokenAudience, issuer: config.widgetTokenIssuer },
      runtime.clock(),
    );
    return json(201, minted);
  },
);
