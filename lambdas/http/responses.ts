/** Helpers shared by handlers and middlewares for API Gateway proxy results. */
import type { APIGatewayProxyResult } from 'aws-lambda';

/** A JSON response with the given status; security and CORS headers are added by the middleware chain. */
export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'Content-Type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(body),
  };
}

/** An empty response (204 and friends). */
export function empty(statusCode: number, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return { statusCode, headers, body: '' };
}
