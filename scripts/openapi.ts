/**
 * `npm run openapi`: writes `docs/openapi.json` from the route table (`lambdas/http/openapi.ts`).
 * Cheap to re-run: no server, no AWS. `test/unit/http/openapi.test.ts` fails when the file is stale.
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { buildOpenApi, OPENAPI_FILE, serializeOpenApi } from '../lambdas/http/openapi.js';

await writeFile(resolve(import.meta.dirname, '..', OPENAPI_FILE), serializeOpenApi(buildOpenApi()));
process.stdout.write(`wrote ${OPENAPI_FILE}\n`);
