import { defineService, loadTypeDefs } from '@vtv/runtime';
import type { TokenIssuer } from '@vtv/kit';
import { join } from 'node:path';
import { identityConfig, type IdentityConfig } from './config';
import { PersonRow, RegionRow } from './data/entities';
import { migrations } from './data/migrations';
import { Store } from './data/repositories';
import { resolvers } from './resolvers';
import { FaceAssertionVerifier } from './security/face-assertions';
import { BlindIndex, PiiCipher, personalDataKeys } from './security/pii-crypto';
import { PinHasher } from './security/pin-hasher';
import { Vault } from './security/vault';
import { AdminService } from './services/admin';
import { AuditService } from './services/audit';
import { bootstrapAdmin } from './services/bootstrap';
import { ClientService } from './services/clients';
import { PersonService } from './services/people';
import { PinService } from './services/pins';
import { ReencryptionService } from './services/reencryption';
import { RegionService } from './services/regions';
import { SessionService } from './services/sessions';
import { createTokenIssuer } from './services/tokens';
import { VerificationService } from './services/verification';

export interface IdentityServices {
  regions: RegionService;
  people: PersonService;
  verification: VerificationService;
  sessions: SessionService;
  admin: AdminService;
  clients: ClientService;
  audit: AuditService;
  reencryption: ReencryptionService;
  tokens: TokenIssuer;
}

export const identity = defineService<IdentityServices, IdentityConfig>({
  name: 'identity',
  typeDefs: loadTypeDefs(join(__dirname, 'schema.graphql')),
  resolvers,
  config: identityConfig,
  entities: [RegionRow, PersonRow],
  migrations,
  services: async ({ ds, config, logger, cache }) => {
    const store = new Store(ds);
    const keys = personalDataKeys(config, logger);
    const vault = new Vault(new PiiCipher(keys.keys), new BlindIndex(keys.blindIndexKey));
    const tokens = await createTokenIssuer(config, logger);
    const pins = new PinService(store, new PinHasher(keys.pinPepper, config.PIN_SCRYPT_COST), {
      maxAttempts: config.PIN_MAX_ATTEMPTS,
      lockoutMs: config.PIN_LOCKOUT_SECONDS * 1000,
    });
    const face = config.FACE_PROVIDER_JWKS_URL
      ? new FaceAssertionVerifier({
          jwksUrl: config.FACE_PROVIDER_JWKS_URL,
          issuer: config.FACE_PROVIDER_ISSUER!,
          audience: config.FACE_PROVIDER_AUDIENCE,
          algorithms: config.FACE_PROVIDER_ALGORITHMS.split(','),
          maxAgeSeconds: config.FACE_ASSERTION_MAX_AGE_SECONDS,
        })
      : null;
    if (config.BOOTSTRAP_ADMIN_ID_NUMBER) {
      await bootstrapAdmin(
        store,
        vault,
        {
          idNumber: config.BOOTSTRAP_ADMIN_ID_NUMBER,
          name: config.BOOTSTRAP_ADMIN_NAME!,
          regionCode: config.BOOTSTRAP_ADMIN_REGION_CODE!,
        },
        logger,
      );
    }
    return {
      regions: new RegionService(store),
      people: new PersonService(store, vault, pins, { selfService: config.CARD_SELF_SERVICE_ISSUANCE }),
      verification: new VerificationService(store, pins, face, cache, tokens, {
        proofTtlSeconds: config.PROOF_TTL_SECONDS,
        faceChallengeTtlSeconds: config.FACE_CHALLENGE_TTL_SECONDS,
      }),
      sessions: new SessionService(store, vault, pins, tokens, {
        tokenTtlSeconds: config.TOKEN_TTL_SECONDS,
        challengeTtlSeconds: config.SIGN_IN_CHALLENGE_TTL_SECONDS,
      }),
      admin: new AdminService(store, vault),
      clients: new ClientService(store),
      audit: new AuditService(store),
      reencryption: new ReencryptionService(store, vault),
      tokens,
    };
  },
  routes: (app, { tokens }) => {
    // Public keys only; the gateway and subgraphs verify tokens and proofs locally with them.
    app.get('/.well-known/jwks.json', (_req, res) => {
      res.set('cache-control', 'public, max-age=300').json(tokens.jwks());
    });
  },
});
