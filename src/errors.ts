import { GraphQLError } from 'graphql';
import type { z } from 'zod';

/** The documented set of codes a client can cause (DESIGN.md, "Errors"). */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_USER_INPUT'
  | 'CONFLICT'
  | 'PAYMENT_REQUIRED'
  | 'RATE_LIMITED'
  | 'GONE';

export function appError(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { ...extensions, code } });
}

export const unauthenticated = (message = 'Authentication required') => appError('UNAUTHENTICATED', message);
export const forbidden = (message = 'Not allowed') => appError('FORBIDDEN', message);
/** Also used where the caller may not see a thing, so that existence is not leaked. */
export const notFound = (what = 'Resource') => appError('NOT_FOUND', `${what} not found`);
export const badInput = (message: string, field?: string) =>
  appError('BAD_USER_INPUT', message, field ? { field } : {});
export const conflict = (message: string, extra: Record<string, unknown> = {}) => appError('CONFLICT', message, extra);
export const rateLimited = (message: string, retryAfterSec: number) =>
  appError('RATE_LIMITED', message, { retryAfter: retryAfterSec });
export const paymentRequired = (message: string, extra: Record<string, unknown> = {}) =>
  appError('PAYMENT_REQUIRED', message, extra);
export const gone = (message: string) => appError('GONE', message);
/**
 * The model provider failed (HTTP error, no answer): not the client's fault, but worth a clear message
 * rather than a masked one. Its own code, so clients can tell it from bad input and retry later.
 */
export const providerFailed = (message: string) => new GraphQLError(message, { extensions: { code: 'PROVIDER_ERROR' } });

/** Validates input with zod; the first problem becomes a BAD_USER_INPUT naming the field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue.path.join('.');
  throw badInput(field ? `${field}: ${issue.message}` : issue.message, field || undefined);
}

/** Prisma's unique-constraint violation, the same code on both databases. */
export const isUniqueViolation = (err: unknown): boolean => {
  const e = err as { code?: string; meta?: { driverAdapterError?: { cause?: { kind?: string } } } } | null;
  // P2002 from Prisma's own queries; a raw statement's (P2010) carries the driver adapter's error kind.
  return e?.code === 'P2002' || (e?.code === 'P2010' && e.meta?.driverAdapterError?.cause?.kind === 'UniqueConstraintViolation');
};
