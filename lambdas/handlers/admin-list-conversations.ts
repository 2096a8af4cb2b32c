/** `GET /v1/admin/conversations`: conversations newest first, optionally of one user. */
import { defineHandler } from '../http/handler.js';
import { route } from '../http/routes.js';
import { json } from '../http/responses.js';
import { listBody, readCursor } from '../http/paging.js';

export const { handler, build, facts } = defineHandler(
  route('GET /v1/admin/conversations'),
  async ({ query, runtime }) => {
    const scope = `conversations\n${query.userId ?? ''}`;
    const from = await readCursor(runtime, scope, query.cursor);
    const page = await runtime.conversations.list({ limit: query.limit, userId: query.userId, from }, runtime.clock());
    return json(200, await listBody(runtime, scope, page));
  },
);
