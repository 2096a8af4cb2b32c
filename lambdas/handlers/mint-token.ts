/** `POST /v1/tokens` (server key): mints a widget token for one of the customer's users. */
import { ValidationError } from '../lib/errors.js';
import { defineHandler } from '../http/handler.js';
import { route } from '../http/routes.js';
import { json } from '../http/responses.js';
import { mintWidgetToken } from '../lib/tokens.js';

/** The lifetime of a token minted without `expiresInSeconds`. */
const DEFAULT_LIFETIME_SECONDS = 3600;

export const { handler, build, facts } = defineHandler(route('POST /v1/tokens'), async ({ body, runtime }) => {
  const { config } = runtime;
  const maxTtl = config.widgetTokenMaxTtlSeconds;
  const expiresInSeconds = body.expiresInSeconds ?? Math.min(DEFAULT_LIFETIME_SECONDS, maxTtl);
  if (expiresInSeconds > maxTtl) {
    throw new ValidationError('The request is not valid.', [
      { path: 'body.expiresInSeconds', message: `must be at most ${maxTtl} (WIDGET_TOKEN_MAX_TTL_SECONDS)` },
    ]);
  }
  const secret = (await runtime.secrets.get())['widget-signing-secret'].current.value;
  const minted = await mintWidgetToken(
    secret,
    { userId: body.userId, userMetadata: body.userMetadata, expiresInSeconds },
    { audience: config.widgetTokenAudience, issuer: config.widgetTokenIssuer },
    runtime.clock(),
  );
  return json(201, minted);
});
