import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const scrypt = (password: string, salt: Buffer, keylen: number, opts: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) =>
    scryptCb(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))),
  );

/**
 * scrypt with OWASP's recommended N=2^17, r=8, p=1 by default. The parameters are stored in the
 * hash (`scrypt$<logN>$<r>$<p>$<salt>$<key>`), so raising the cost later keeps old hashes valid.
 */
export async function hashPassword(password: string, logN = 17): Promise<string> {
  const salt = randomBytes(16);
  const N = 2 ** logN;
  const key = await scrypt(password.normalize('NFKC'), salt, 32, { N, r: 8, p: 1, maxmem: 256 * N * 8 });
  return ['scrypt', logN, 8, 1, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [algo, logN, r, p, salt, key] = stored.split('$');
  if (algo !== 'scrypt') return false;
  const N = 2 ** Number(logN);
  const expected = Buffer.from(key, 'base64url');
  const actual = await scrypt(password.normalize('NFKC'), Buffer.from(salt, 'base64url'), expected.length, {
    N,
    r: Number(r),
    p: Number(p),
    maxmem: 256 * N * Number(r),
  });
  return timingSafeEqual(expected, actual);
}

/** A hash of nothing, verified against when the email is unknown so both failures cost the same. */
const dummies = new Map<number, Promise<string>>();
export function dummyHash(logN: number): Promise<string> {
  let h = dummies.get(logN);
  if (!h) dummies.set(logN, (h = hashPassword(randomBytes(16).toString('hex'), logN)));
  return h;
}
