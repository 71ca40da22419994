import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { Logger } from '@vtv/kit';
import type { IdentityConfig } from '../config';

/** One AES-256 key, named so that ciphertexts can say which key made them. */
export interface EncryptionKey {
  id: string;
  key: Buffer;
}

/**
 * Where encryption keys come from. Rotation: add a new key in front; new writes use it, old ciphertexts
 * still decrypt with the key their envelope names, and the re-encrypt path moves them forward. A key
 * can be removed once nothing is encrypted with it any more.
 */
export interface KeyProvider {
  /** The key new writes use (the newest). */
  current(): EncryptionKey;
  /** A key still able to decrypt, by id. */
  get(id: string): EncryptionKey | undefined;
  ids(): string[];
}

export class StaticKeyProvider implements KeyProvider {
  private readonly byId: Map<string, EncryptionKey>;

  constructor(private readonly keys: EncryptionKey[]) {
    if (keys.length === 0) throw new Error('at least one encryption key is needed');
    for (const k of keys) if (k.key.length !== 32) throw new Error(`key ${k.id} is not 32 bytes`);
    this.byId = new Map(keys.map((k) => [k.id, k]));
  }

  current(): EncryptionKey {
    return this.keys[0]!;
  }

  get(id: string): EncryptionKey | undefined {
    return this.byId.get(id);
  }

  ids(): string[] {
    return this.keys.map((k) => k.id);
  }
}

const VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Authenticated encryption of personal data (AES-256-GCM). The envelope is
 * `version | key-id length | key id | nonce | ciphertext | tag`; the additional data binds a ciphertext to
 * its table, column and row, so a value copied into another row or column does not decrypt.
 */
export class PiiCipher {
  constructor(private readonly keys: KeyProvider) {}

  get currentKeyId(): string {
    return this.keys.current().id;
  }

  encrypt(plaintext: string, context: string): Buffer {
    const { id, key } = this.keys.current();
    const idBytes = Buffer.from(id, 'utf8');
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    cipher.setAAD(Buffer.from(`vtv-identity:${context}`, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.from([VERSION, idBytes.length]), idBytes, nonce, body, cipher.getAuthTag()]);
  }

  /** The id of the key an envelope was made with. */
  keyIdOf(envelope: Buffer): string {
    if (envelope[0] !== VERSION) throw new Error('unknown personal-data envelope version');
    return envelope.subarray(2, 2 + envelope[1]!).toString('utf8');
  }

  decrypt(envelope: Buffer, context: string): string {
    const keyId = this.keyIdOf(envelope);
    const key = this.keys.get(keyId);
    if (!key) throw new Error(`personal-data key ${keyId} is not configured`);
    let at = 2 + envelope[1]!;
    const nonce = envelope.subarray(at, (at += NONCE_BYTES));
    const body = envelope.subarray(at, envelope.length - TAG_BYTES);
    const tag = envelope.subarray(envelope.length - TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', key.key, nonce);
    decipher.setAAD(Buffer.from(`vtv-identity:${context}`, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  }
}

/**
 * A keyed blind index: HMAC-SHA256 under its own key, so equal ID numbers can be found without
 * storing them in the clear and without the index being computable by anyone holding only the data.
 */
export class BlindIndex {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('blind-index key must be 32 bytes');
  }

  idNumber(normalised: string): Buffer {
    return createHmac('sha256', this.key).update(`id-number\u0000${normalised}`, 'utf8').digest();
  }
}

function derive(secret: string, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'vtv-identity-development', info, 32));
}

export interface PersonalDataKeys {
  keys: KeyProvider;
  blindIndexKey: Buffer;
  pinPepper: Buffer;
}

/**
 * Keys from config. Outside production a missing key is derived from INTERNAL_AUTH_SECRET (stable across
 * restarts, so the embedded database stays readable); production refuses to start without real keys.
 */
export function personalDataKeys(config: IdentityConfig, logger: Logger): PersonalDataKeys {
  let keys: EncryptionKey[];
  if (config.PII_ENCRYPTION_KEYS) {
    keys = (JSON.parse(config.PII_ENCRYPTION_KEYS) as { id: string; key: string }[]).map((k) => ({
      id: k.id,
      key: Buffer.from(k.key, 'base64'),
    }));
  } else {
    logger.warn('PII_ENCRYPTION_KEYS not set: using a development key derived from INTERNAL_AUTH_SECRET');
    keys = [{ id: 'dev', key: derive(config.INTERNAL_AUTH_SECRET, 'pii-encryption') }];
  }
  let blindIndexKey: Buffer;
  if (config.PII_BLIND_INDEX_KEY) blindIndexKey = Buffer.from(config.PII_BLIND_INDEX_KEY, 'base64');
  else {
    logger.warn('PII_BLIND_INDEX_KEY not set: using a development key derived from INTERNAL_AUTH_SECRET');
    blindIndexKey = derive(config.INTERNAL_AUTH_SECRET, 'pii-blind-index');
  }
  const pinPepper = config.PIN_PEPPER_KEY
    ? Buffer.from(config.PIN_PEPPER_KEY, 'base64')
    : Buffer.from(hkdfSync('sha256', blindIndexKey, 'vtv-identity', 'pin-pepper', 32));
  return { keys: new StaticKeyProvider(keys), blindIndexKey, pinPepper };
}
