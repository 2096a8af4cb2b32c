/** `GET /health`: liveness only; says nothing about versions or dependencies. */
import { defineHandler } from '../lib/handler.js';
import { json } from '../lib/http.js';

export const { handler, build } = defineHandler({
  auth: 'none',
  run: async () => json(200, { status: 'ok' }),
});
