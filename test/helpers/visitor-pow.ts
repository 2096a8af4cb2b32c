/** Solving visitor-token challenges as a client would (design §14), with altcha-lib's own solver. */
import { solveChallenge } from 'altcha-lib/v1';
import type { VisitorChallenge } from '../../lambdas/lib/visitors/challenge.js';

/** The base64 `pow` payload the widget sends for the body of `GET /v1/visitor-tokens/challenge`. */
export async function solvePow(body: unknown): Promise<string> {
  const c = body as VisitorChallenge;
  const solution = await solveChallenge(c.challenge, c.salt, c.algorithm, c.maxnumber).promise;
  if (!solution) throw new Error('unsolvable challenge');
  return Buffer.from(JSON.stringify({ ...c, number: solution.number, took: solution.took })).toString('base64');
}
