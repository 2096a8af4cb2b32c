/** zod parsers for environment values shared by every part of the configuration (`config.ts`). */
import * as z from 'zod';

/** `"true"` or `"false"`; unset gives `fallback`. */
export const bool = (fallback: boolean | undefined) =>
  z
    .enum(['true', 'false'], { error: 'must be "true" or "false"' })
    .optional()
    .transform((v) => (v === undefined ? fallback : v === 'true'));

/** A whole number from `min` to `max` written in decimal digits only; unset or empty gives `fallback`. */
export const int = (fallback: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback;
      const n = Number(v);
      if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be a whole number from ${min} to ${max}` });
        return z.NEVER;
      }
      return n;
    });
