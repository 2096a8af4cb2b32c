/**
 * `DELETE /v1/admin/keys/{keyId}` (role `admin`): revokes a managed key. It is refused at once by
 * this process and within `KEY_CACHE_SECONDS` by every other. Revoking twice is a no-op (204).
 */
import { requestEvent } from '../lib/audit-events.js';
import { NotFoundError } from '../lib/errors.js';
import { defineHandler } from '../http/handler.js';
import { route } from '../http/routes.js';
import { empty } from '../http/responses.js';

export const { handler, build, facts } = defineHandler(
  route('DELETE /v1/admin/keys/{keyId}'),
  async ({ params, state, runtime }) => {
    const result = await runtime.apiKeys.revoke(params.keyId);
    if (!result) throw new NotFoundError('No such key.');
    if (result.changed) {
      await runtime.audit.record(
        requestEvent(state, 'key.revoked', runtime.clock(), { keyId: result.record.id, role: result.record.role }),
      );
    }
    return empty(204);
  },
);
