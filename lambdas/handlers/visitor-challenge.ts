/** `GET /v1/visitor-tokens/challenge` (widget key, allowed `Origin`): a proof-of-work challenge for a visitor token. */
import { defineHandler } from '../http/handler.js';
import { json } from '../http/responses.js';
import { emptyQuerySchema } from '../lib/schemas.js';
import { createVisitorChallenge } from '../lib/visitors/challenge.js';
import { challengeKeys } from '../lib/visitors/redeem.js';
import { visitorOrigin } from '../lib/visitors/visitor-token.js';

export const { handler, build } = defineHandler({
  auth: 'widget',
  token: 'never-required',
  query: emptyQuerySchema,
  run: async ({ state, runtime }) => {
    visitorOrigin(state.corsOrigin);
    const [key] = await challengeKeys(runtime);
    const challenge = await createVisitorChallenge(key as string, runtime.config.visitor.powMaxNumber, runtime.clock());
    return json(200, challenge);
  },
});
