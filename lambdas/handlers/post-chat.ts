/** `POST /v1/chat` and `POST /chat`: one chat turn; a session started with a token belongs to that user. */
import { runChatTurn } from '../lib/chat-service.js';
import { defineHandler } from '../lib/handler.js';
import { json } from '../lib/http.js';
import { chatRequestSchema } from '../lib/schemas.js';

export const { handler, build } = defineHandler({
  auth: 'widget',
  body: chatRequestSchema,
  run: async ({ body, state, runtime }) => {
    const message = await runChatTurn(runtime, {
      sessionId: body.sessionId,
      message: body.message,
      owner: state.token ? { kind: 'user', userId: state.token.userId } : { kind: 'anonymous' },
      origin: state.corsOrigin,
      requestId: state.requestId,
    });
    return json(200, { sessionId: body.sessionId, message });
  },
});
