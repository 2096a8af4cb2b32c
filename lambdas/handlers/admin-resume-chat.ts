/** `DELETE /v1/admin/chat/pause` (role `admin`): chat answers again everywhere within 5 s. Audited as `chat.resumed`. */
import { requestEvent } from '../lib/audit-events.js';
import { defineHandler } from '../http/handler.js';
import { route } from '../http/routes.js';
import { empty } from '../http/responses.js';

export const { handler, build, facts } = defineHandler(
  route('DELETE /v1/admin/chat/pause'),
  async ({ state, runtime }) => {
    await runtime.chatPause.resume();
    await runtime.audit.record(requestEvent(state, 'chat.resumed', runtime.clock()));
    return empty(204);
  },
);
