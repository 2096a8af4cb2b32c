/** `GET /v1/admin/audit`: security events newest first, optionally of one type. */
import { defineHandler } from '../http/handler.js';
import { route } from '../http/routes.js';
import { json } from '../http/responses.js';
import { listBody, readCursor } from '../http/paging.js';

export const { handler, build, facts } = defineHandler(route('GET /v1/admin/audit'), async ({ query, runtime }) => {
  const scope = `audit\n${query.type ?? ''}`;
  const from = await readCursor(runtime, scope, query.cursor);
  const page = await runtime.auditStore.list({ limit: query.limit, type: query.type, from }, runtime.clock());
  return json(200, await listBody(runtime, scope, page));
});
