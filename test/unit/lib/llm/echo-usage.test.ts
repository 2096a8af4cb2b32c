/** Metering (design §12): the echo model reports no usage, so the chat service estimates it. */
import { EchoModel } from '../../../../lambdas/lib/llm/echo.js';
import { metered } from '../../../helpers/metered-request.js';

describe('metering: echo', () => {
  it('should report no usage, so the chat service estimates it', async () => {
    // Prepare
    const { request, reported } = metered(3);

    // Act
    await new EchoModel().complete(request);
    for await (const delta of new EchoModel().stream(request)) void delta;

    // Assess
    expect(reported).toEqual([]);
  });
});
