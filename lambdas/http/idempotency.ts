/**
 * `Idempotency-Key` on `POST /v1/chat` with Powertools Idempotency: a retry of an answered turn
 * gets the first answer again and calls no model; the same key with another message is 422;
 * a retry while the first attempt still runs is 409. Records are scoped to the caller (verified
 * user or anonymous) and the session, so one caller's key never replays another's answer, and
 * hold only a reference to the stored answer, so erasing a conversation erases its replays.
 */
import { createHash } from 'node:crypto';
import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  IdempotencyUnknownError,
  IdempotencyValidationError,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { runChatTurn, type ChatTurn } from '../lib/chat-service.js';
import {
  AppError,
  IdempotencyInProgressError,
  IdempotencyKeyReusedError,
  NotFoundError,
  ServiceUnavailableError,
  ValidationError,
} from '../lib/errors.js';
import type { Runtime } from '../lib/runtime.js';
import type { ChatMessage } from '../lib/conversation.js';
import { requestSignal } from './request-signal.js';

/** How long an answered key replays its answer. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;
/** Visible ASCII, as the IETF Idempotency-Key draft's examples; long enough for a UUID or a hash. */
/** 1–255 visible ASCII characters (also the OpenAPI document's pattern). */
export const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** The request's `Idempotency-Key` (headers already lower-cased by the chain), validated; undefined when absent. */
export function idempotencyKeyOf(event: APIGatewayProxyEvent): string | undefined {
  const single = event.headers?.['idempotency-key'];
  const values = event.multiValueHeaders?.['idempotency-key'] ?? (single === undefined ? [] : [single]);
  if (values.length === 0) return undefined;
  const [key] = values;
  if (values.length > 1 || key === undefined || !KEY_PATTERN.test(key)) {
    throw new ValidationError('The Idempotency-Key header is invalid.', [
      { path: 'headers.Idempotency-Key', message: 'must be one value of 1 to 255 visible ASCII characters' },
    ]);
  }
  return key;
}

/** An idempotent chat turn's answer, and whether it is a replay of an earlier request. */
export interface IdempotentAnswer {
  readonly message: ChatMessage;
  readonly replayed: boolean;
}

/** Runs `turn` at most once per caller, session and key. */
export async function runIdempotentTurn(
  runtime: Runtime,
  turn: ChatTurn,
  key: string,
  context: Context,
): Promise<IdempotentAnswer> {
  const owner = turn.owner.kind === 'user' ? `user:${turn.owner.userId}` : 'anonymous';
  const scope = createHash('sha256')
    .update(JSON.stringify([owner, turn.sessionId, key]))
    .digest('base64url');
  let answered: ChatMessage | undefined;
  const once = makeIdempotent(
    async (_payload: { scope: string; message: string }) => {
      const { message, key: messageKey } = await runChatTurn(
        runtime,
        { ...turn, turnKey: scope },
        requestSignal(context),
      );
      answered = message;
      return { messageKey };
    },
    {
      persistenceStore: runtime.idempotency,
      keyPrefix: 'chat-turn',
      config: new IdempotencyConfig({
        eventKeyJmesPath: 'scope',
        payloadValidationJmesPath: 'message',
        expiresAfterSeconds: IDEMPOTENCY_TTL_SECONDS,
        // Its deadline bounds how long an interrupted attempt blocks retries (hosts without one: the TTL).
        ...(typeof context.getRemainingTimeInMillis === 'function' ? { lambdaContext: context } : {}),
      }),
    },
  );
  // A paused chat answers nothing, replays included.
  await turn.spend?.open();
  let result: { messageKey: string };
  try {
    result = await once({ scope, message: turn.message });
  } catch (error) {
    throw mapIdempotencyError(error);
  }
  if (answered) return { message: answered, replayed: false };
  const message = await runtime.conversations.getMessage(turn.sessionId, result.messageKey, runtime.clock());
  // The conversation was erased (or expired) since: there is nothing to replay.
  if (!message) throw new NotFoundError('No such session.');
  return { message, replayed: true };
}

function mapIdempotencyError(error: unknown): unknown {
  if (error instanceof AppError) return error;
  if (error instanceof IdempotencyValidationError) return new IdempotencyKeyReusedError({ cause: error });
  if (error instanceof IdempotencyAlreadyInProgressError) return new IdempotencyInProgressError({ cause: error });
  // The idempotency store failing is a dependency failing: fail closed.
  if (error instanceof IdempotencyUnknownError) return new ServiceUnavailableError({ cause: error });
  return error;
}
