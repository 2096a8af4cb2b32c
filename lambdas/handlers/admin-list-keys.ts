/** `GET /v1/admin/keys` (role `admin:read`): managed keys newest first, without keys or digests. */
import { viewOf } from '../lib/api-keys.js';
import { defineHandler } from '../http/handler.js';
import { route } from '../http/routes.js';
import { json } from '../http/responses.js';
import { listBody, readCursor } from '../http/paging.js';

const SCOPE = 'keys';

export const { handler, build, facts } = defineHandler(route('GET /v1/admin/keys'), async ({ query, runtime }) => {
  const from = await readCursor(runtime, SCOPE, query.cursor);
  const page = await runtime.apiKeyStore.list({ limit: query.limit, from });
  const now = runtime.clock();
  return json(
    200,
    await listBody(runtime, SCOPE, page && { ...page, items: page.items.map((record) => viewOf(record, now)) }),
  );
});
