/** `DELETE /v1/admin/conversations/{sessionId}`: erases every item of a conversation. */
import { NotFoundError } from '../lib/errors.js';
import { defineHandler } from '../http/handler.js';
import { route } from '../http/routes.js';
import { empty } from '../http/responses.js';
import { requestEvent } from '../lib/audit-events.js';

export const { handler, build, facts } = defineHandler(
  route('DELETE /v1/admin/conversations/{sessionId}'),
  async ({ params, state, runtime }) => {
    const deleted = await runtime.conversations.delete(params.sessionId);
    if (deleted === 0) throw new NotFoundError('No such conversation.');
    await runtime.audit.record(
      requestEvent(state, 'conversation.deleted', runtime.clock(), { sessionId: params.sessionId, items: deleted }),
    );
    return empty(204);
  },
);
