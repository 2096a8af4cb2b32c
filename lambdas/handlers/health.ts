/** `GET /health`: liveness only; says nothing about versions or dependencies. */
import { defineHandler } from '../http/handler.js';
import { route } from '../http/routes.js';
import { json } from '../http/responses.js';

export const { handler, build, facts } = defineHandler(route('GET /health'), async () => json(200, { status: 'ok' }));
