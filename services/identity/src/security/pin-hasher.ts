import { createHmac, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface PinHash {
  hash: Buffer;
  salt: Buffer;
  /** e.g. `scrypt:N=16384,r=8,p=1`: stored with the hash so the cost can rise without breaking old ones. */
  params: string;
}

const KEY_LENGTH = 32;

function scryptAsync(password: Buffer, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, KEY_LENGTH, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

function parseParams(params: string): { N: number; r: number; p: number } {
  const m = /^scrypt:N=(\d+),r=(\d+),p=(\d+)$/.exec(params);
  if (!m) throw new Error('unknown PIN hash parameters');
  return { N: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
}

/**
 * e-SSC PINs (电子社保卡密码) as slow salted hashes: scrypt over HMAC(pepper, PIN) with a per-person salt.
 * A six-digit PIN has only a million values, so the pepper (kept in config, not in the database) is what
 * makes a stolen table useless; the online guessing limit is the lockout.
 */
export class PinHasher {
  constructor(
    private readonly pepper: Buffer,
    private readonly cost: number,
  ) {}

  private get params(): string {
    return `scrypt:N=${this.cost},r=8,p=1`;
  }

  private peppered(pin: string): Buffer {
    return createHmac('sha256', this.pepper).update(pin, 'utf8').digest();
  }

  private derive(pin: string, salt: Buffer, params: string): Promise<Buffer> {
    const { N, r, p } = parseParams(params);
    return scryptAsync(this.peppered(pin), salt, { N, r, p, maxmem: 256 * N * r });
  }

  async hash(pin: string): Promise<PinHash> {
    const salt = randomBytes(16);
    return { hash: await this.derive(pin, salt, this.params), salt, params: this.params };
  }

  async verify(pin: string, stored: PinHash): Promise<boolean> {
    const candidate = await this.derive(pin, stored.salt, stored.params);
    return candidate.length === stored.hash.length && timingSafeEqual(candidate, stored.hash);
  }

  needsRehash(params: string): boolean {
    return params !== this.params;
  }

  /** Spends the same time as a verification, so an unknown account answers as slowly as a known one. */
  async burn(): Promise<void> {
    await this.derive('000000', randomBytes(16), this.params);
  }
}
