/**
 * Lambda response streaming for API Gateway's `STREAM` transfer mode: the chain's result becomes
 * the HTTP prelude (status and headers) and its body is piped as it is produced. Written here,
 * not with Middy's streaming execution mode, because that mode needs the `awslambda` global when
 * the chain is built, while our chains are built lazily and also run outside Lambda (the local
 * server pipes the same result to its HTTP response).
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context, StreamifyHandler } from 'aws-lambda';

/** A proxy result whose body is produced as it is read. */
export type StreamingResult = Omit<APIGatewayProxyResult, 'body'> & { readonly body: Readable };

/** The Lambda runtime's streaming handler shape. */
export type StreamingLambdaHandler = StreamifyHandler<APIGatewayProxyEvent, void>;

/** Whether `body` is a stream rather than a string. */
export function isStreamingResult(result: APIGatewayProxyResult | StreamingResult): result is StreamingResult {
  return typeof result.body !== 'string';
}

/** Wraps a chain as a response-streaming Lambda handler. Outside Lambda it refuses to run. */
export function streamingLambda(
  chain: (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult | StreamingResult>,
): StreamingLambdaHandler {
  // The Node.js Lambda runtime provides `awslambda.streamifyResponse` before it loads the handler.
  // (Other code may create a bare `awslambda` object, so the function itself is what is checked.)
  const host = (globalThis as { awslambda?: { streamifyResponse?: unknown } }).awslambda;
  if (typeof host?.streamifyResponse !== 'function') {
    return async () => {
      throw new Error('A streaming handler runs in Lambda only; hosts call build(runtime) instead.');
    };
  }
  return awslambda.streamifyResponse(async (event, responseStream, context) => {
    const { body, ...prelude } = await chain(event, context);
    const http = awslambda.HttpResponseStream.from(responseStream, prelude);
    // A reader that goes away ends the pipeline, which destroys the body and so stops its producer.
    await pipeline(typeof body === 'string' ? [body] : body, http);
  });
}
