// What the stored bytes really are: the declared content type must match them, and images get their size.
import { fileTypeFromBuffer } from 'file-type';
import { imageSize } from 'image-size';

/** Bytes of the start of a file kept for sniffing (file-type needs 4100; image-size may need more for a JPEG's frame header). */
export const SNIFF_BYTES = 64 * 1024;

/** Declared types checked as text: valid UTF-8 without NUL bytes, and no binary signature. */
export const isTextType = (type: string) => type.startsWith('text/') || type === 'application/json';
export const isImageType = (type: string) => type.startsWith('image/');

/**
 * Checks text as it streams: valid UTF-8 (split characters across chunks are fine) and no NUL byte.
 * `push` each chunk in order, then `end()`: false once anything was wrong.
 */
export function textChecker() {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let ok = true;
  return {
    push(chunk: Uint8Array) {
      if (!ok) return;
      if (chunk.includes(0)) ok = false;
      else
        try {
          decoder.decode(chunk, { stream: true });
        } catch {
          ok = false;
        }
    },
    end(): boolean {
      if (ok)
        try {
          decoder.decode();
        } catch {
          ok = false;
        }
      return ok;
    },
  };
}

export type SniffResult = { ok: true; width: number | null; height: number | null } | { ok: false; reason: string };

/**
 * Does the file whose first bytes are `head` match the declared type? `textOk` is the text check over the
 * whole file (textChecker), for text types. Images must parse (width and height are recorded).
 */
export async function sniff(declared: string, head: Uint8Array, textOk?: boolean): Promise<SniffResult> {
  const found = await fileTypeFromBuffer(head).catch(() => undefined);
  if (isTextType(declared)) {
    if (found) return { ok: false, reason: `the bytes are ${found.mime}, not ${declared}` };
    if (!textOk) return { ok: false, reason: `the bytes are not ${declared} (text must be valid UTF-8 without NUL bytes)` };
    return { ok: true, width: null, height: null };
  }
  if (found?.mime !== declared) return { ok: false, reason: `the bytes are ${found?.mime ?? 'of an unknown type'}, not ${declared}` };
  if (!isImageType(declared)) return { ok: true, width: null, height: null };
  try {
    const size = imageSize(head);
    return { ok: true, width: size.width ?? null, height: size.height ?? null };
  } catch {
    return { ok: true, width: null, height: null };
  }
}
