import { defineService, loadTypeDefs } from '@vtv/runtime';
import { join } from 'node:path';
import { settlementConfig, type SettlementConfig } from './config';
import { DisbursementRow, SubsidyApplicationRow } from './data/entities';
import { migrations } from './data/migrations';
import { DisbursementRepository, SubsidyApplicationRepository } from './data/repositories';
import { resolvers } from './resolvers';
import { SubsidyApplicationService } from './services/applications';
import { DisbursementService } from './services/disbursements';

export interface SettlementServices {
  applications: SubsidyApplicationService;
  disbursements: DisbursementService;
}

export const settlement = defineService<SettlementServices, SettlementConfig>({
  name: 'settlement',
  typeDefs: loadTypeDefs(join(__dirname, 'schema.graphql')),
  resolvers,
  config: settlementConfig,
  entities: [SubsidyApplicationRow, DisbursementRow],
  migrations,
  services: ({ ds }) => {
    const applications = new SubsidyApplicationService(new SubsidyApplicationRepository(ds));
    return {
      applications,
      disbursements: new DisbursementService(new DisbursementRepository(ds), applications),
    };
  },
});
