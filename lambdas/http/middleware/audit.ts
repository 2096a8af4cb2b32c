/**
 * Audit of successful privileged calls: every admin request that passed authentication, whatever
 * its outcome, is recorded as `admin.access` (route, method, actor, client address, request id; never bodies).
 * Failures are audited where they happen (auth, CORS).
 */
import type { MiddlewareObj } from '@middy/core';
import { type AuditLog } from '../../lib/audit.js';
import { requestEvent } from '../../lib/audit-events.js';
import { AppError } from '../../lib/errors.js';
import type { AppRequest } from '../request.js';

export interface AdminAuditOptions {
  readonly audit: AuditLog;
  readonly clock: () => number;
}

/** Creates the admin-access audit middleware. */
export function adminAudit(options: AdminAuditOptions): MiddlewareObj {
  const record = async (request: AppRequest): Promise<void> => {
    const state = request.context.app;
    if (state?.actor === undefined) return;
    const status = request.response?.statusCode ?? (request.error instanceof AppError ? request.error.status : 500);
    const sessionId = request.event.pathParameters?.sessionId;
    await options.audit.record(
      requestEvent(state, 'admin.access', options.clock(), {
        status,
        ...(sessionId ? { sessionId: sessionId.slice(0, 128) } : {}),
      }),
    );
  };
  return { after: record, onError: record } as MiddlewareObj;
}
