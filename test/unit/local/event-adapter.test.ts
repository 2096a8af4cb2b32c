/**
 * The local HTTP → API Gateway event adapter keeps header and query names as own properties,
 * whatever the client calls them. Regression: fuzzing found that a query key or header named
 * `__proto__` reached `Object.prototype` and made the adapter answer 500.
 */
import type { IncomingMessage } from 'node:http';
import { matchRoute } from '../../../lambdas/http/routes.js';
import { splitTarget, toEvent } from '../../../local/event-adapter.js';

/** The parts of an `IncomingMessage` the adapter reads. */
const incoming = (rawHeaders: string[]): IncomingMessage =>
  ({ method: 'GET', httpVersion: '1.1', rawHeaders, headers: {} }) as unknown as IncomingMessage;

const eventFor = (target: string, rawHeaders: string[] = []) => {
  const split = splitTarget(target);
  return toEvent(incoming(rawHeaders), '127.0.0.1', split, Buffer.alloc(0), matchRoute('GET', split.path));
};

describe('local event adapter', () => {
  const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).sort();
  afterEach(() => {
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeBefore);
  });

  it.each(['__proto__', 'constructor', 'prototype', 'hasOwnProperty'])(
    'It should keep a query key named %s as an own value, last and all values',
    (name) => {
      // Act
      const event = eventFor(`/health?${name}=a&${name}=b`);

      // Assess
      expect(Object.getOwnPropertyDescriptor(event.queryStringParameters, name)?.value).toBe('b');
      expect(Object.getOwnPropertyDescriptor(event.multiValueQueryStringParameters, name)?.value).toEqual(['a', 'b']);
    },
  );

  it.each(['__proto__', 'constructor', 'toString'])('It should keep a header named %s as an own value', (name) => {
    // Act
    const event = eventFor('/health', [name, 'x', 'Accept', 'a', 'Accept', 'b']);

    // Assess
    expect(Object.getOwnPropertyDescriptor(event.headers, name)?.value).toBe('x');
    expect(Object.getOwnPropertyDescriptor(event.multiValueHeaders, name)?.value).toEqual(['x']);
    expect(event.multiValueHeaders.Accept).toEqual(['a', 'b']);
    expect(event.headers.Accept).toBe('b');
  });

  it.each([
    ['Authorization', ['Bearer first', 'Bearer second']],
    ['X-Widget-Api-Key', ['wrong', 'right', 'right']],
    ['Content-Type', ['text/plain', 'application/json']],
  ])('should keep the last %s in headers and every copy, in order, in multiValueHeaders', (name, values) => {
    // Act
    const event = eventFor(
      '/health',
      values.flatMap((value) => [name, value]),
    );

    // Assess
    expect(event.headers[name]).toBe(values.at(-1));
    expect(event.multiValueHeaders[name]).toEqual(values);
  });
});
