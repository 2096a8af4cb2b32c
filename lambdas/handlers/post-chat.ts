/**
 * `POST /v1/chat` and `POST /chat`: one chat turn; a session started with a token belongs to that
 * user. With `Idempotency-Key`, a retry gets the first answer again (`Idempotent-Replayed: true`).
 */
import { chatTurnOf, runChatTurn } from '../lib/chat-service.js';
import { defineHandler } from '../http/handler.js';
import { route } from '../http/routes.js';
import { json } from '../http/responses.js';
import { idempotencyKeyOf, runIdempotentTurn } from '../http/idempotency.js';
import { requestSignal } from '../http/request-signal.js';

export const { handler, build, facts } = defineHandler(
  route('POST /v1/chat'),
  async ({ body, event, context, state, runtime }) => {
    const key = idempotencyKeyOf(event);
    const turn = chatTurnOf(body, state);
    if (key === undefined) {
      // The model call stops when the caller is gone or the deadline nears; the user message stays stored once.
      const { message } = await runChatTurn(runtime, turn, requestSignal(context));
      return json(200, { sessionId: body.sessionId, message });
    }
    const { message, replayed } = await runIdempotentTurn(runtime, turn, key, context);
    return json(200, { sessionId: body.sessionId, message }, replayed ? { 'Idempotent-Replayed': 'true' } : {});
  },
);
