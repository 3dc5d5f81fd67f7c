import { z } from 'zod';
import { AppError } from '../errors';

/** A body field every by-hand action takes: who did it (the JSON API knows the token, not the person). */
export const byField = z.string({ error: 'required: who (a name or an email)' }).trim().min(1, 'required: who (a name or an email)').max(100, 'at most 100 characters');

/** A required why, shown to everyone with the action. */
export const reasonField = (what: string) => z.string({ error: `required: why (${what})` }).trim().min(1, `required: why (${what})`).max(500, 'at most 500 characters');

/** Parses a JSON body with `schema`; the first problem becomes INVALID_PAYLOAD naming its field. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new AppError('INVALID_PAYLOAD', `${issue.path.join('.') || 'body'}: ${issue.message}`);
}
