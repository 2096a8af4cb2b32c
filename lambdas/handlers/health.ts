/** `GET /health`: liveness only; says nothing about versions or dependencies. */
import { defineHandler } from '../http/handler.js';
import { json } from '../http/responses.js';

export const { handler, build } = defineHandler({
  auth: 'none',
  run: async () => json(200, { status: 'ok' }),
});
