import { deflateSync } from 'node:zlib';
import type { TestServer } from './server.ts';

/** A real PNG of the given size (grey pixels), so that sniffing and image-size see a genuine image. */
export function png(width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf: Buffer) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, sum]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  const raw = Buffer.alloc((width + 1) * height, 0x80);
  for (let y = 0; y < height; y++) raw[y * (width + 1)] = 0; // filter: none
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

export const CreateUpload = `
  mutation AttCreateUpload($input: CreateUploadInput!) {
    createUpload(input: $input) {
      uploadUrl expiresAt uploadHeaders { name value }
      attachment { id filename contentType byteSize status width height isImage url urlExpiresAt uploader { id } }
    }
  }
`;

export interface Upload {
  id: string;
  uploadUrl: string;
  expiresAt: string;
  headers: Record<string, string>;
}

/** createUpload as `token`; returns the attachment id and where to PUT. */
export async function createUpload(server: TestServer, token: string, orgId: string, file: { filename: string; contentType: string; byteSize: number }): Promise<Upload> {
  const { createUpload } = await server.ok<any, any>(CreateUpload, { input: { orgId, ...file } }, { token });
  const headers = Object.fromEntries((createUpload.uploadHeaders as { name: string; value: string }[]).map((h) => [h.name, h.value]));
  return { id: createUpload.attachment.id, uploadUrl: createUpload.uploadUrl, expiresAt: createUpload.expiresAt, headers };
}

/** PUTs bytes to an upload URL with the headers it asked for. */
export const put = (upload: Pick<Upload, 'uploadUrl' | 'headers'>, bytes: Uint8Array) =>
  fetch(upload.uploadUrl, { method: 'PUT', headers: upload.headers, body: bytes as BodyInit });

/** createUpload then PUT: a READY attachment's id. */
export async function uploadFile(server: TestServer, token: string, orgId: string, filename: string, contentType: string, bytes: Buffer): Promise<string> {
  const upload = await createUpload(server, token, orgId, { filename, contentType, byteSize: bytes.length });
  const res = await put(upload, bytes);
  if (res.status !== 200) throw new Error(`upload failed: ${res.status} ${await res.text()}`);
  return upload.id;
}

/** Resolves once the clock has passed `at` (an ISO time or epoch ms): waits for the expiry itself, no guessed sleep. */
export async function until(at: string | number): Promise<void> {
  const t = typeof at === 'number' ? at : Date.parse(at);
  while (Date.now() <= t) await new Promise((r) => setTimeout(r, Math.min(50, t - Date.now() + 1)));
}
