import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  type ConverseStreamOutput,
} from '@aws-sdk/client-bedrock-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { BedrockModel } from '../../../../lambdas/lib/llm/bedrock.js';
import { EchoModel } from '../../../../lambdas/lib/llm/echo.js';
import type { CompletionRequest, ReportedUsage } from '../../../../lambdas/lib/llm/model-provider.js';
import { OpenAiCompatibleModel } from '../../../../lambdas/lib/llm/openai.js';
import { startFakeOpenAi, type FakeOpenAi } from '../../../helpers/fake-openai.js';

/** A request that records the usage its provider reports. */
function metered(maxOutputTokens = 64): { request: CompletionRequest; reported: ReportedUsage[] } {
  const reported: ReportedUsage[] = [];
  return {
    reported,
    request: {
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'one two three four five six' }],
      maxOutputTokens,
      onUsage: (usage) => reported.push(usage),
    },
  };
}

async function drain(stream: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const delta of stream) out += delta;
  return out;
}

describe('metering: OpenAI-compatible', () => {
  let fake: FakeOpenAi;
  let model: OpenAiCompatibleModel;
  beforeAll(async () => {
    fake = await startFakeOpenAi();
    model = new OpenAiCompatibleModel({
      baseUrl: fake.baseUrl,
      model: 'gpt-test',
      apiKey: async () => 'sk-test-key',
      connectTimeoutMs: 1000,
    });
  });
  afterAll(() => fake.close());
  beforeEach(() => {
    fake.requests.length = 0;
  });

  it.each([
    ['a JSON answer', false],
    ['a stream, from its last chunk', true],
  ])('should pass on the usage of %s and send the output limit', async (_, stream) => {
    // Prepare
    fake.behave({ kind: 'answer', deltas: ['Hi'], usage: { prompt_tokens: 12, completion_tokens: 3 } });
    const { request, reported } = metered(64);

    // Act
    if (stream) await drain(model.stream(request));
    else await model.complete(request);

    // Assess
    expect(reported).toEqual([{ inputTokens: 12, outputTokens: 3 }]);
    expect(fake.requests[0]?.body.max_tokens).toBe(64);
    expect(fake.requests[0]?.body.stream_options).toEqual(stream ? { include_usage: true } : undefined);
  });

  it.each([false, true])('should report nothing when the server sends no usage (stream: %s)', async (stream) => {
    fake.behave({ kind: 'answer', deltas: ['Hi'], usage: null });
    const { request, reported } = metered();
    if (stream) await drain(model.stream(request));
    else await model.complete(request);
    expect(reported).toEqual([]);
  });
});

describe('metering: Bedrock', () => {
  const bedrock = mockClient(BedrockRuntimeClient);
  const model = new BedrockModel({
    modelId: 'anthropic.test-model',
    connectTimeoutMs: 1000,
    client: new BedrockRuntimeClient({ region: 'us-east-1' }),
  });
  beforeEach(() => bedrock.reset());

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
    async function* events(): AsyncGenerator<ConverseStreamOutput> {
      yield { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'Hel' } } };
      yield { messageStop: { stopReason: 'end_turn' } };
      yield { metadata: { usage: { inputTokens: 30, outputTokens: 1, totalTokens: 31 }, metrics: { latencyMs: 5 } } };
    }
    bedrock.on(ConverseStreamCommand).resolves({ stream: events() });
    const { request, reported } = metered();

    // Act
    const text = await drain(model.stream(request));

    // Assess
    expect(text).toBe('Hel');
    expect(reported).toEqual([{ inputTokens: 30, outputTokens: 1 }]);
  });
});

describe('metering: echo', () => {
  it('should report no usage, so the chat service estimates it', async () => {
    const { request, reported } = metered(3);
    await new EchoModel().complete(request);
    await drain(new EchoModel().stream(request));
    expect(reported).toEqual([]);
  });
});
