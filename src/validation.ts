import { z } from 'zod';

/** JSON that fits in `maxBytes` once serialized. */
export function jsonWithin(maxBytes: number) {
  return z.unknown().superRefine((value, issue) => {
    const size = Buffer.byteLength(JSON.stringify(value ?? null));
    if (size > maxBytes) issue.addIssue({ code: 'custom', message: `must be at most ${maxBytes} bytes of JSON (got ${size})` });
  });
}
