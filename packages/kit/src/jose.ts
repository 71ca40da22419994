/**
 * The JOSE library the kit's tokens are built on, for services that verify third-party JWTs against a
 * JWKS (e.g. face-verification assertions) and for tests that play such a third party.
 */
export * from 'jose';
