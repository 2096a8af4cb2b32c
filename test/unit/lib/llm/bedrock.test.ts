import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  type ConverseStreamOutput,
} from '@aws-sdk/client-bedrock-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { BedrockModel, toConverseMessages } from '../../../../lambdas/lib/llm/bedrock.js';
import { ModelError, type CompletionRequest } from '../../../../lambdas/lib/llm/model-provider.js';
import { metered } from '../../../helpers/metered-request.js';

const REQUEST: CompletionRequest = {
  system: 'Be brief.',
  messages: [
    { role: 'assistant', content: 'an answer cut off from its question' },
    { role: 'user', content: 'q1' },
    { role: 'assistant', content: 'a1' },
    { role: 'user', content: 'q2' },
  ],
};

async function* events(...list: ConverseStreamOutput[]): AsyncGenerator<ConverseStreamOutput> {
  for (const event of list) yield event;
}

const delta = (text: string): ConverseStreamOutput => ({
  contentBlockDelta: { contentBlockIndex: 0, delta: { text } },
});
const stop: ConverseStreamOutput = { messageStop: { stopReason: 'end_turn' } };

describe('BedrockModel', () => {
  const bedrock = mockClient(BedrockRuntimeClient);
  const model = new BedrockModel({
    modelId: 'anthropic.test-model',
    connectTimeoutMs: 1000,
    client: new BedrockRuntimeClient({ region: 'us-east-1' }),
  });
  beforeEach(() => bedrock.reset());

  it('It should call Converse with the model id, the system prompt and an alternating conversation', async () => {
    bedrock.on(ConverseCommand).resolves({ output: { message: { role: 'assistant', content: [{ text: 'hi' }] } } });
    await expect(model.complete(REQUEST)).resolves.toBe('hi');
    expect(bedrock.commandCalls(ConverseCommand)[0]?.args[0].input).toEqual({
      modelId: 'anthropic.test-model',
      system: [{ text: 'Be brief.' }],
      messages: [
        { role: 'user', content: [{ text: 'q1' }] },
        { role: 'assistant', content: [{ text: 'a1' }] },
        { role: 'user', content: [{ text: 'q2' }] },
      ],
    });
  });

  it('It should stream the text deltas of ConverseStream', async () => {
    bedrock.on(ConverseStreamCommand).resolves({ stream: events(delta('Hel'), delta('lo'), stop) });
    const out: string[] = [];
    for await (const text of model.stream(REQUEST)) out.push(text);
    expect(out).toEqual(['Hel', 'lo']);
  });

  it.each([
    [
      'a model stream error event',
      [delta('Hel'), { modelStreamErrorException: { message: 'x' } } as ConverseStreamOutput],
    ],
    ['a throttling event', [{ throttlingException: { message: 'slow down' } } as ConverseStreamOutput]],
    ['a stream that ends without messageStop', [delta('Hel')]],
  ])('It should fail with a ModelError on %s', async (_name, list) => {
    bedrock.on(ConverseStreamCommand).resolves({ stream: events(...list) });
    const consume = async () => {
      for await (const text of model.stream(REQUEST)) void text;
    };
    await expect(consume()).rejects.toBeInstanceOf(ModelError);
  });

  it('It should pass the abort signal to the SDK', async () => {
    bedrock.on(ConverseCommand).resolves({ output: { message: { role: 'assistant', content: [{ text: 'hi' }] } } });
    const controller = new AbortController();
    await model.complete({ ...REQUEST, signal: controller.signal });
    // The mock records send()'s options after the command, though its types name the command only.
    const args = bedrock.commandCalls(ConverseCommand)[0]?.args as unknown[] | undefined;
    expect(args?.[1]).toEqual({ abortSignal: controller.signal });
  });

  describe('metering (design §12)', () => {
    it('should send maxTokens and pass on the Converse usage', async () => {
      // Prepare
      bedrock.on(ConverseCommand).resolves({
        output: { message: { role: 'assistant', content: [{ text: 'hi' }] } },
        usage: { inputTokens: 20, outputTokens: 2, totalTokens: 22 },
      });
      const { request, reported } = metered(99);

      // Act
      await model.complete(request);

      // Assess
      expect(bedrock.commandCalls(ConverseCommand)[0]?.args[0].input.inferenceConfig).toEqual({ maxTokens: 99 });
      expect(reported).toEqual([{ inputTokens: 20, outputTokens: 2 }]);
    });

    it('should read the stream past messageStop for the metadata usage', async () => {
      // Prepare
      const usage = { usage: { inputTokens: 30, outputTokens: 1, totalTokens: 31 }, metrics: { latencyMs: 5 } };
      bedrock.on(ConverseStreamCommand).resolves({ stream: events(delta('Hel'), stop, { metadata: usage }) });
      const { request, reported } = metered();

      // Act
      const out: string[] = [];
      for await (const text of model.stream(request)) out.push(text);

      // Assess
      expect(out.join('')).toBe('Hel');
      expect(reported).toEqual([{ inputTokens: 30, outputTokens: 1 }]);
    });
  });
});

describe('toConverseMessages', () => {
  it.each([
    [[], []],
    [[{ role: 'assistant', content: 'a' }], []],
    [
      [
        { role: 'user', content: 'q1' },
        { role: 'user', content: 'q1 again' },
        { role: 'assistant', content: 'a' },
      ],
      [
        { role: 'user', content: [{ text: 'q1\n\nq1 again' }] },
        { role: 'assistant', content: [{ text: 'a' }] },
      ],
    ],
  ] as const)('It should turn %j into a conversation that starts with the user and alternates', (input, expected) => {
    expect(toConverseMessages(input)).toEqual(expected);
  });
});
