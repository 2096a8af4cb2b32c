/** `GET /v1/admin/conversations/{sessionId}`: one conversation and a page of its messages. */
import { NotFoundError } from '../lib/errors.js';
import { defineHandler } from '../http/handler.js';
import { route } from '../http/routes.js';
import { json } from '../http/responses.js';
import { listBody, readCursor } from '../http/paging.js';

export const { handler, build, facts } = defineHandler(
  route('GET /v1/admin/conversations/{sessionId}'),
  async ({ params, query, runtime }) => {
    const now = runtime.clock();
    const scope = `messages\n${params.sessionId}`;
    const from = await readCursor(runtime, scope, query.cursor);
    const [conversation, page] = await Promise.all([
      runtime.conversations.get(params.sessionId, now),
      runtime.conversations.messages(params.sessionId, query.limit, from, now),
    ]);
    if (!conversation) throw new NotFoundError('No such conversation.');
    const { items, nextCursor } = await listBody(runtime, scope, page);
    return json(200, { conversation, messages: items, nextCursor });
  },
);
