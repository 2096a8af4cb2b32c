import { ChatError, friendlyMessage } from '../../../widget/src/errors.js';

describe('friendlyMessage', () => {
  it.each([
    [
      new ChatError('RATE_LIMIT_EXCEEDED', 429, 12),
      'You are sending messages too quickly. Please try again in 12 seconds.',
    ],
    [
      new ChatError('RATE_LIMIT_EXCEEDED', 429, 1),
      'You are sending messages too quickly. Please try again in 1 second.',
    ],
    [new ChatError('HTTP_429', 429), 'You are sending messages too quickly. Please wait a moment and try again.'],
    [new ChatError('UPSTREAM_ERROR', 502), 'The assistant could not answer just now. Please try again.'],
    [new ChatError('INTERNAL_ERROR', 500), 'The assistant could not answer just now. Please try again.'],
    [new ChatError('HTTP_504', 504), 'The assistant could not answer just now. Please try again.'],
    [new ChatError('STREAM_INTERRUPTED', 0), 'The assistant could not answer just now. Please try again.'],
    [
      new ChatError('SERVICE_UNAVAILABLE', 503),
      'The chat service is temporarily unavailable. Please try again in a little while.',
    ],
    [new ChatError('TOKEN_EXPIRED', 401), 'Your session has expired. Please sign in again.'],
    [new ChatError('UNAUTHORIZED', 401), 'You are not signed in to the chat. Please sign in again.'],
    [new ChatError('ORIGIN_NOT_ALLOWED', 403), 'This chat is not available on this site.'],
    [new ChatError('NETWORK_ERROR', 0), 'The chat service cannot be reached. Check your connection and try again.'],
    [new ChatError('BUDGET_EXCEEDED', 429, 3600), "You've reached today's chat limit. Please come back tomorrow."],
    [new ChatError('CHAT_PAUSED', 503), 'The chat is paused for the moment. Please try again later.'],
    [new ChatError('SOMETHING_NEW', 418), 'Something went wrong. Please try again.'],
  ])('It should explain %s in plain words', (error, expected) => {
    expect(friendlyMessage(error)).toBe(expected);
  });
});
