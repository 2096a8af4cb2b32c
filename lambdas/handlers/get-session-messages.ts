/** `GET /v1/sessions/{sessionId}/messages` (widget token): the verified user's own history, oldest first. */
import { NotFoundError } from '../lib/errors.js';
import { defineHandler } from '../http/handler.js';
import { route } from '../http/routes.js';
import { json } from '../http/responses.js';
import { listBody, readCursor } from '../http/paging.js';

export const { handler, build, facts } = defineHandler(
  route('GET /v1/sessions/{sessionId}/messages'),
  async ({ params, query, state, runtime }) => {
    const now = runtime.clock();
    const userId = state.token?.userId;
    const conversation = await runtime.conversations.get(params.sessionId, now);
    // Someone else's session, an anonymous one, or none at all: the same 404.
    if (!conversation || userId === undefined || conversation.userId !== userId)
      throw new NotFoundError('No such session.');
    const scope = `session-messages\n${userId}\n${params.sessionId}`;
    const from = await readCursor(runtime, scope, query.cursor);
    const page = await runtime.conversations.messages(params.sessionId, query.limit, from, now);
    return json(200, await listBody(runtime, scope, page));
  },
);
