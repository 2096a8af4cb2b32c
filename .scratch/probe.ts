import * as z from 'zod';
import { ROUTES } from '../lambdas/http/routes.ts';
for (const r of ROUTES.slice(0,4)) {
  console.log(r.method, r.path);
  if (r.body) console.log(JSON.stringify(z.toJSONSchema(r.body, { io: 'input', unrepresentable: 'any' })));
  if (r.query) console.log(JSON.stringify(z.toJSONSchema(r.query, { io: 'input', unrepresentable: 'any' })));
  if (r.response) console.log(JSON.stringify(z.toJSONSchema(r.response, { io: 'output', unrepresentable: 'any' })));
}
