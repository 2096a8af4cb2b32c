const t0 = performance.now();
const { checkResponse } = await import('../test/helpers/openapi.js');
const t1 = performance.now();
const { SECURITY_HEADERS } = await import('../test/helpers/http.js');
const h = { ...SECURITY_HEADERS, 'x-request-id': 'x', 'content-type': 'application/json' };
const tries: [string, string, number, unknown][] = [
  ['POST', '/v1/chat', 200, { sessionId: 's', message: { role: 'assistant', content: 'x', createdAt: '2026-01-01T00:00:00.000Z' } }],
  ['POST', '/v1/chat', 429, { error: { code: 'RATE_LIMIT_EXCEEDED', message: 'm', retry_after: 3 } }],
  ['GET', '/v1/admin/audit', 200, { items: [], nextCursor: null }],
  ['POST', '/v1/chat', 200, { sessionId: 's', message: { role: 'assistant', content: 'x', createdAt: '2026-01-01T00:00:00.000Z' } }],
];
for (const [m, p, s, b] of tries) {
  const a = performance.now();
  try { checkResponse(m, p, { status: s, headers: h, json: b, text: JSON.stringify(b) }); } catch (e) { console.log(String(e).slice(0, 100)); }
  console.log(m, p, s, (performance.now() - a).toFixed(1), 'ms');
}
console.log('load', (t1 - t0).toFixed(1));
