import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const scrypt = (password: string, salt: Buffer, keylen: number, opts: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) =>
    scryptCb(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))),
  );

/** scrypt with N=2^15, r=8, p=1 (OWASP's minimum is N=2^17 for r=8 at p=1 or N=2^15 with more memory work; tune with the env). */
export interface KdfCost {
  N: number;
  r: number;
  p: number;
}
export const DEFAULT_COST: KdfCost = { N: 2 ** 15, r: 8, p: 1 };

/** `scrypt$N$r$p$salt$hash` (base64): the only form a password ever takes outside the request. */
export async function hashPassword(password: string, cost: KdfCost = DEFAULT_COST): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, 32, { ...cost, maxmem: 256 * cost.N * cost.r });
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || !salt || !hash) return false;
  const cost = { N: Number(n), r: Number(r), p: Number(p) };
  const expected = Buffer.from(hash, 'base64');
  const key = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, {
    ...cost,
    maxmem: 256 * cost.N * cost.r,
  });
  return timingSafeEqual(key, expected);
}

export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 200;

/** Why a password is too weak, in words a person can act on; empty when it is acceptable. */
export function passwordWeaknesses(password: string, personal: string[]): string[] {
  const out: string[] = [];
  if (password.length < PASSWORD_MIN) out.push(`must be at least ${PASSWORD_MIN} characters`);
  if (password.length > PASSWORD_MAX) out.push(`must be at most ${PASSWORD_MAX} characters`);
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(password)).length;
  if (classes < 2) out.push('must mix at least two of: lower case, upper case, digits, symbols');
  if (new Set(password).size < 5) out.push('must use at least 5 different characters');
  const lower = password.toLowerCase();
  if (personal.some((p) => p.length >= 3 && lower.includes(p.toLowerCase())))
    out.push('must not contain your name or email address');
  if (COMMON.has(lower)) out.push('is one of the most common passwords');
  return out;
}

const COMMON = new Set([
  'password123',
  'password1!',
  'qwertyuiop',
  '1234567890',
  'iloveyou123',
  'letmein123',
  'welcome123',
  'admin12345',
  'passw0rd123',
  'qwerty12345',
]);
