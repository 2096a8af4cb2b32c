/**
 * `GET /v1/admin/usage?day=YYYY-MM-DD[&userId=|&sessionId=]` (`admin` or `admin:read`): one UTC
 * day's tokens of the deployment, a user or a session, against that scope's budget (design §12);
 * with `MODEL_PRICE_INPUT_PER_MTOK` and `MODEL_PRICE_OUTPUT_PER_MTOK` set, also the cost in USD.
 */
import { utcDay } from '../lib/budget.js';
import { ownerOf } from '../lib/conversation.js';
import { defineHandler } from '../http/handler.js';
import { route } from '../http/routes.js';
import { json } from '../http/responses.js';

export const { handler, build, facts } = defineHandler(route('GET /v1/admin/usage'), async ({ query, runtime }) => {
  const day = query.day ?? utcDay(runtime.clock());
  // A session's budget is kept per owner (design §12): read the owner's.
  const session =
    query.sessionId === undefined ? undefined : await runtime.conversations.get(query.sessionId, runtime.clock());
  const usage = await runtime.budgets.usage(day, {
    ...query,
    ...(session === undefined ? {} : { sessionOwner: ownerOf(session.userId ?? undefined) }),
  });
  const { priceInputPerMTok: inPrice, priceOutputPerMTok: outPrice } = runtime.config.budget;
  const scope = query.userId !== undefined ? 'user' : query.sessionId !== undefined ? 'session' : 'deployment';
  const usd =
    inPrice === undefined || outPrice === undefined
      ? {}
      : { usd: Math.round(usage.inputTokens * inPrice + usage.outputTokens * outPrice) / 1e6 };
  return json(200, {
    day,
    scope,
    inputTokens: usage.inputTokens,
    outputTokens: usage.outputTokens,
    turns: usage.turns,
    budget: usage.budget,
    remaining: usage.remaining,
    ...usd,
  });
});
