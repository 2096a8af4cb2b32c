/**
 * `POST /v1/admin/keys` (role `admin`): creates a managed API key with a name, a role and an
 * optional expiry, and answers the key itself once; only its digest is stored.
 */
import { MAX_ACTIVE_KEYS, generateApiKey, keyEnvironment, newKeyId, viewOf } from '../lib/api-keys.js';
import { requestEvent } from '../lib/audit-events.js';
import { ValidationError } from '../lib/errors.js';
import { defineHandler } from '../http/handler.js';
import { route } from '../http/routes.js';
import { json } from '../http/responses.js';

export const { handler, build, facts } = defineHandler(
  route('POST /v1/admin/keys'),
  async ({ body, state, runtime }) => {
    const now = runtime.clock();
    const expiresAt = body.expiresAt === undefined ? undefined : Date.parse(body.expiresAt);
    if (expiresAt !== undefined && expiresAt <= now) {
      throw new ValidationError('The request is not valid.', [
        { path: 'body.expiresAt', message: 'must be in the future' },
      ]);
    }
    const { key, hash, prefix } = generateApiKey(keyEnvironment(runtime.config.production));
    const record = {
      id: newKeyId(now),
      name: body.name,
      role: body.role,
      hash,
      prefix,
      createdBy: state.actor ?? 'admin',
      createdAt: now,
      ...(expiresAt === undefined ? {} : { expiresAt }),
    };
    await runtime.apiKeyStore.create(record, MAX_ACTIVE_KEYS);
    await runtime.audit.record(requestEvent(state, 'key.created', now, { keyId: record.id, role: record.role }));
    return json(201, { ...viewOf(record, now), key });
  },
);
