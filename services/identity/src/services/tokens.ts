import { TokenIssuer, generateSigningKey, type JWK, type Logger, type SigningKey } from '@vtv/kit';
import type { IdentityConfig } from '../config';

/** Loads signing keys from config (newest first), or generates one outside production. */
export async function createTokenIssuer(config: IdentityConfig, logger: Logger): Promise<TokenIssuer> {
  if (!config.TOKEN_SIGNING_KEYS) {
    logger.warn('TOKEN_SIGNING_KEYS not set: using a generated key; tokens will not survive a restart');
    return new TokenIssuer([await generateSigningKey()], config.TOKEN_TTL_SECONDS);
  }
  const jwks = JSON.parse(config.TOKEN_SIGNING_KEYS) as JWK[];
  const keys: SigningKey[] = jwks.map((jwk) => {
    if (!jwk.kid || !jwk.d) throw new Error('each TOKEN_SIGNING_KEYS entry needs kid and d');
    const { d: _d, ...publicJwk } = jwk;
    return { kid: jwk.kid, privateJwk: jwk, publicJwk: { ...publicJwk, use: 'sig', alg: 'ES256' } };
  });
  return new TokenIssuer(keys, config.TOKEN_TTL_SECONDS);
}
