/**
 * `GET /v1/visitor-tokens/challenge` (widget key; a present `Origin` must be allowed, as
 * everywhere): a proof-of-work challenge for a visitor token. Unlike minting it does not need an
 * `Origin`, since browsers send none on same-origin GETs, and a challenge is bound to no site.
 */
import { defineHandler } from '../http/handler.js';
import { json } from '../http/responses.js';
import { route } from '../http/routes.js';
import { createVisitorChallenge } from '../lib/visitors/challenge.js';
import { challengeKeys } from '../lib/visitors/redeem.js';

export const { handler, build, facts } = defineHandler(
  route('GET /v1/visitor-tokens/challenge'),
  async ({ runtime }) => {
    const [key] = await challengeKeys(runtime);
    const challenge = await createVisitorChallenge(key as string, runtime.config.visitor.powMaxNumber, runtime.clock());
    return json(200, challenge);
  },
);
