import { TOPICS } from '@vtv/events';
import { defineService, loadTypeDefs } from '@vtv/runtime';
import { join } from 'node:path';
import { settlementConfig, type SettlementConfig } from './config';
import { DisbursementRow, SubsidyApplicationRow } from './data/entities';
import { migrations } from './data/migrations';
import {
  AuditRepository,
  DisbursementRepository,
  EvidenceRepository,
  LedgerRepository,
  RulesRepository,
  SubsidyApplicationRepository,
} from './data/repositories';
import { evidenceHandlers } from './events/handlers';
import { resolvers } from './resolvers';
import { SubsidyApplicationService } from './services/applications';
import { BudgetService } from './services/budget';
import { DisbursementService } from './services/disbursements';
import { ReviewService } from './services/review';
import { RulesService } from './services/rules';

export interface SettlementServices {
  applications: SubsidyApplicationService;
  review: ReviewService;
  disbursements: DisbursementService;
  budget: BudgetService;
  rules: RulesService;
}

export const settlement = defineService<SettlementServices, SettlementConfig>({
  name: 'settlement',
  typeDefs: loadTypeDefs(join(__dirname, 'schema.graphql')),
  resolvers,
  config: settlementConfig,
  entities: [SubsidyApplicationRow, DisbursementRow],
  migrations,
  consumes: {
    topics: [
      TOPICS.vouchersVoucher.name,
      TOPICS.trainingClass.name,
      TOPICS.trainingEnrollment.name,
      TOPICS.trainingInstitution.name,
      TOPICS.careersCertificate.name,
    ],
    handlers: ({ logger }) => evidenceHandlers(new EvidenceRepository(), logger),
  },
  services: ({ ds, config }) => {
    const applicationRepo = new SubsidyApplicationRepository(ds);
    const ledger = new LedgerRepository();
    const audit = new AuditRepository();
    const rules = new RulesService(ds, new RulesRepository(), audit);
    const applications = new SubsidyApplicationService(
      ds,
      applicationRepo,
      new EvidenceRepository(),
      rules,
      audit,
      {
        minAttendanceBp: config.SETTLEMENT_MIN_ATTENDANCE_BP,
        maxLines: config.SETTLEMENT_MAX_LINES,
      },
    );
    return {
      applications,
      rules,
      review: new ReviewService(ds, applicationRepo, ledger, audit, applications),
      disbursements: new DisbursementService(
        ds,
        new DisbursementRepository(ds),
        applicationRepo,
        ledger,
        audit,
        applications,
      ),
      budget: new BudgetService(ds, ledger, applicationRepo, audit),
    };
  },
});
