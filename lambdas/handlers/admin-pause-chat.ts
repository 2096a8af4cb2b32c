/**
 * `POST /v1/admin/chat/pause` (role `admin`): the emergency stop (design §12). Every chat route
 * answers 503 `CHAT_PAUSED` at once on this instance and within 5 s on every other, until
 * `DELETE /v1/admin/chat/pause`. Audited as `chat.paused` with the reason.
 */
import { requestEvent } from '../lib/audit-events.js';
import { defineHandler } from '../http/handler.js';
import { route } from '../http/routes.js';
import { empty } from '../http/responses.js';

export const { handler, build, facts } = defineHandler(
  route('POST /v1/admin/chat/pause'),
  async ({ body, state, runtime }) => {
    await runtime.chatPause.pause(body.reason, state.actor ?? 'admin');
    await runtime.audit.record(requestEvent(state, 'chat.paused', runtime.clock(), { reason: body.reason }));
    return empty(204);
  },
);
