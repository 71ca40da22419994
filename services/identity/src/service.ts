import { defineService, loadTypeDefs } from '@vtv/runtime';
import { join } from 'node:path';
import { identityConfig, type IdentityConfig } from './config';
import { PersonRow, RegionRow } from './data/entities';
import { migrations } from './data/migrations';
import { PersonRepository, RegionRepository } from './data/repositories';
import { resolvers } from './resolvers';
import { PersonService } from './services/people';
import { RegionService } from './services/regions';
import { createTokenIssuer } from './services/tokens';
import type { TokenIssuer } from '@vtv/kit';

export interface IdentityServices {
  regions: RegionService;
  people: PersonService;
  tokens: TokenIssuer;
}

export const identity = defineService<IdentityServices, IdentityConfig>({
  name: 'identity',
  typeDefs: loadTypeDefs(join(__dirname, 'schema.graphql')),
  resolvers,
  config: identityConfig,
  entities: [RegionRow, PersonRow],
  migrations,
  services: async ({ ds, config, logger }) => ({
    regions: new RegionService(new RegionRepository(ds)),
    people: new PersonService(new PersonRepository(ds)),
    tokens: await createTokenIssuer(config, logger),
  }),
  routes: (app, { tokens }) => {
    // Public keys only; the gateway and subgraphs verify tokens locally with them.
    app.get('/.well-known/jwks.json', (_req, res) => {
      res.set('cache-control', 'public, max-age=300').json(tokens.jwks());
    });
  },
});
