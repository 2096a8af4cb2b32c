/** Where a list left off: the day partition being walked and DynamoDB's last evaluated key. */
import * as z from 'zod';

/** A page position as a cursor carries it (`lambdas/http/cursor.ts` reads cursors with it). */
export const pagePositionSchema = z
  .object({
    day: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/)
      .optional(),
    key: z.record(z.string().max(64), z.union([z.string().max(1024), z.number()])).optional(),
  })
  .strict();

export type PagePosition = z.infer<typeof pagePositionSchema>;

/** One page of a list; `next` is absent on the last page. */
export interface Page<T> {
  readonly items: T[];
  readonly next?: PagePosition;
}
