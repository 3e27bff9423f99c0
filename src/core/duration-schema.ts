import * as z from 'zod';
import { parseDuration } from './duration.js';

/** A policy duration: text such as "15m" or a number of seconds; the output is milliseconds. */
export const durationSchema = (field: string) =>
  z.union([z.string(), z.number()]).transform((value, ctx) => {
    const ms = typeof value === 'number' ? value * 1000 : parseDuration(value);
    if (ms === undefined || ms < 0) {
      ctx.addIssue({
        code: 'custom',
        message: `${field} must be a duration such as "15m", "90s" or "1h30m" (got ${JSON.stringify(value)})`,
      });
      return z.NEVER;
    }
    return ms;
  });
