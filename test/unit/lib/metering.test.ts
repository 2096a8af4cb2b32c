import { ModelError } from '../../../lambdas/lib/llm/model-provider.js';
import {
  loadTokenizer,
  promptTokens,
  TOKENS_PER_MESSAGE,
  TOKENS_PER_PROMPT,
  type Tokenizer,
} from '../../../lambdas/lib/llm/tokenizer.js';
import { CallMeter, reservationFor, trimContext } from '../../../lambdas/lib/metering.js';

let tokenizer: Tokenizer;
beforeAll(async () => {
  tokenizer = await loadTokenizer();
});

const user = (content: string) => ({ role: 'user' as const, content });
const assistant = (content: string) => ({ role: 'assistant' as const, content });

describe('the BPE tokenizer', () => {
  it.each([
    ['an empty text', '', 0],
    ['one common word', 'hello', 1],
    ['a short sentence', 'Hello, world!', 4],
    ['a special-token marker, as plain text', '<|endoftext|>', 7],
  ])('should count %s', (_, text, tokens) => {
    expect(tokenizer.count(text)).toBe(tokens);
  });
});

describe('trimContext', () => {
  const cost = (text: string) => tokenizer.count(text) + TOKENS_PER_MESSAGE;

  it('should keep every message that fits', () => {
    const messages = [user('a'), assistant('b'), user('c')];
    expect(trimContext(tokenizer, messages, 1000)).toEqual(messages);
  });

  it('should drop the oldest messages first', () => {
    // Prepare
    const messages = [user('first message'), assistant('second message'), user('third')];
    const budget = cost('second message') + cost('third');

    // Act / Assess
    expect(trimContext(tokenizer, messages, budget)).toEqual(messages.slice(1));
    expect(trimContext(tokenizer, messages, budget - 1)).toEqual(messages.slice(2));
  });

  it('should always keep the newest message, even when it alone is over the limit', () => {
    const messages = [user('old'), user('a long newest message that is over the limit')];
    expect(trimContext(tokenizer, messages, 1)).toEqual(messages.slice(1));
  });
});

describe('reservationFor', () => {
  const caps = { systemPrompt: 'Be brief.', contextMaxTokens: 100, maxOutputTokens: 50 };

  it('should reserve the system prompt, a full context and a full answer', () => {
    expect(reservationFor(tokenizer, caps, 'hi')).toBe(tokenizer.count('Be brief.') + 4 + TOKENS_PER_PROMPT + 100 + 50);
  });

  it('should reserve the new message whole when it alone is larger than the context limit', () => {
    const message = 'word '.repeat(200);
    expect(reservationFor(tokenizer, caps, message)).toBe(
      tokenizer.count('Be brief.') + 4 + TOKENS_PER_PROMPT + tokenizer.count(message) + 4 + 50,
    );
  });

  it('should bound what any context trimmed to the limit can cost', () => {
    // Prepare
    const history = Array.from({ length: 30 }, (_, i) => (i % 2 ? assistant : user)(`message number ${i}`));

    // Act
    const sent = trimContext(tokenizer, history, caps.contextMaxTokens);

    // Assess
    expect(promptTokens(tokenizer, caps.systemPrompt, sent) + caps.maxOutputTokens).toBeLessThanOrEqual(
      reservationFor(tokenizer, caps, 'message number 29'),
    );
  });
});

describe('CallMeter', () => {
  const messages = [user('hello there')];

  it('should estimate with the tokenizer when the provider reports nothing', () => {
    const meter = new CallMeter(tokenizer, 'sys', messages);
    expect(meter.usage('an answer')).toEqual({
      inputTokens: promptTokens(tokenizer, 'sys', messages),
      outputTokens: tokenizer.count('an answer'),
      estimated: true,
    });
  });

  it('should take what the provider reports', () => {
    const meter = new CallMeter(tokenizer, 'sys', messages);
    meter.onUsage({ inputTokens: 123, outputTokens: 45 });
    expect(meter.usage('an answer')).toEqual({ inputTokens: 123, outputTokens: 45, estimated: false });
  });

  it.each([
    ['an HTTP error status', new ModelError('http_status', 'x'), 0],
    ['an unreachable endpoint', new ModelError('network', 'x'), 0],
    ['a timeout', new ModelError('timeout', 'x'), 1],
    ['a reader that went away', undefined, 1],
    ['an unknown failure', new Error('x'), 1],
  ])('should charge the input after %s only when it may have been processed', (_, error, charged) => {
    const meter = new CallMeter(tokenizer, 'sys', messages);
    const usage = meter.failedUsage(error, '');
    expect(usage.inputTokens).toBe(charged * promptTokens(tokenizer, 'sys', messages));
    expect(usage.outputTokens).toBe(0);
  });

  it('should charge the partial answer of a call cut short', () => {
    const meter = new CallMeter(tokenizer, 'sys', messages);
    expect(meter.failedUsage(new ModelError('http_status', 'x'), 'half an').outputTokens).toBe(
      tokenizer.count('half an'),
    );
  });
});
