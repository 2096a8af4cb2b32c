import { ChatClient } from '../../../widget/src/client.js';
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
    [
      new ChatError('NETWORK_ERROR', 0),
      "Can't reach the chat service right now: the connection dropped, or too many requests were sent. Please try again shortly.",
    ],
    [new ChatError('BUDGET_EXCEEDED', 429, 3600), "You've reached today's chat limit. Please come back tomorrow."],
    [new ChatError('CHAT_PAUSED', 503), 'The chat is paused for the moment. Please try again later.'],
    [new ChatError('SOMETHING_NEW', 418), 'Something went wrong. Please try again.'],
  ])('It should explain %s in plain words', (error, expected) => {
    expect(friendlyMessage(error)).toBe(expected);
  });
});

describe('friendlyMessage for answers the page cannot read', () => {
  it.each([
    ['a dropped connection', new TypeError('Failed to fetch')],
    ['a WAF or API Gateway 429 without Access-Control-Allow-Origin (Chrome)', new TypeError('Failed to fetch')],
    ['the same in Firefox', new TypeError('NetworkError when attempting to fetch resource.')],
    ['the same in Safari', new TypeError('Load failed')],
  ])('should tell the visitor to try again shortly after %s', async (_name, failure) => {
    // Prepare: the fetch rejects as browsers do when a response is opaque to the page
    const client = new ChatClient({
      apiUrl: 'https://api.example.com',
      widgetKey: 'wk',
      stream: false,
      fetch: () => Promise.reject(failure),
    });

    // Act
    const error = await (async () => {
      try {
        for await (const event of client.send({ id: () => 'session-1', renew: () => undefined }, 'hello')) void event;
      } catch (caught) {
        return caught as ChatError;
      }
      throw new Error('the turn did not fail');
    })();

    // Assess
    expect(error).toBeInstanceOf(ChatError);
    expect(friendlyMessage(error)).toMatch(/too many requests.*try again shortly/);
    expect(friendlyMessage(error)).not.toContain(failure.message);
  });
});
