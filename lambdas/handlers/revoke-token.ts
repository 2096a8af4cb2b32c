/** `POST /v1/tokens/revoke` (widget token): logout; revokes the presented token until it expires. */
import { defineHandler } from '../http/handler.js';
import { route } from '../http/routes.js';
import { empty } from '../http/responses.js';
import { CLOCK_TOLERANCE_SECONDS } from '../lib/tokens.js';
import { requestEvent } from '../lib/audit-events.js';

export const { handler, build, facts } = defineHandler(route('POST /v1/tokens/revoke'), async ({ state, runtime }) => {
  const token = state.token;
  // Kept until the token is dead everywhere: its expiry plus the verifier's clock tolerance.
  if (token) await runtime.revocations.revokeToken(token.revocationId, token.exp + CLOCK_TOLERANCE_SECONDS);
  await runtime.audit.record(requestEvent(state, 'token.revoked', runtime.clock(), { reason: 'logout' }));
  return empty(204);
});
