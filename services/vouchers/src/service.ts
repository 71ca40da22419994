import { TOPICS } from '@vtv/events';
import { defineService, loadTypeDefs } from '@vtv/runtime';
import { join } from 'node:path';
import { vouchersConfig, type VouchersConfig } from './config';
import { AwaitingClassRow, VoucherRow } from './data/entities';
import { migrations } from './data/migrations';
import { AwaitingClassRepository, VoucherRepository } from './data/repositories';
import { onClassPlanApproved } from './events/class-plan-approved';
import { resolvers } from './resolvers';
import { IssuanceService } from './services/issuance';
import { WalletService } from './services/wallet';

export interface VouchersServices {
  issuance: IssuanceService;
  wallet: WalletService;
}

export const vouchers = defineService<VouchersServices, VouchersConfig>({
  name: 'vouchers',
  typeDefs: loadTypeDefs(join(__dirname, 'schema.graphql')),
  resolvers,
  config: vouchersConfig,
  entities: [VoucherRow, AwaitingClassRow],
  migrations,
  consumes: {
    topics: [TOPICS.trainingClass.name],
    handlers: ({ ds }) => [onClassPlanApproved(new AwaitingClassRepository(ds))],
  },
  services: ({ ds }) => ({
    issuance: new IssuanceService(new AwaitingClassRepository(ds)),
    wallet: new WalletService(new VoucherRepository(ds)),
  }),
});
