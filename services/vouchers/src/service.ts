import { TOPICS } from '@vtv/events';
import { PollingJob, defineService, loadTypeDefs, type ServiceDeps } from '@vtv/runtime';
import { join } from 'node:path';
import { voucherKeys, vouchersConfig, type VouchersConfig } from './config';
import { ENTITIES } from './data/entities';
import { migrations } from './data/migrations';
import { createRepositories } from './data/repositories';
import { QrTokenCodec } from './domain/qr-tokens';
import { onCardIssued } from './events/identity-person';
import { onSubsidyDisbursed } from './events/settlement-disbursement';
import { onClassPlanApproved, onRosterChanged } from './events/training-class';
import { onCompletionRecorded, onEnrollmentCreated } from './events/training-enrollment';
import { onInstitutionActivationChanged, onOperatorMembershipChanged } from './events/training-institution';
import { resolvers } from './resolvers';
import { BatchService } from './services/batches';
import { ClaimService } from './services/claims';
import type { Deps } from './services/context';
import { Lifecycle } from './services/lifecycle';
import { OutcomeService } from './services/outcomes';
import { ProjectionService } from './services/projections';
import { RedemptionService } from './services/redemption';
import { RuleService } from './services/rules';
import { StatisticsService } from './services/statistics';
import { TemplateService } from './services/templates';
import { WalletService } from './services/wallet';

export interface VouchersServices {
  deps: Deps;
  lifecycle: Lifecycle;
  rules: RuleService;
  batches: BatchService;
  templates: TemplateService;
  claims: ClaimService;
  redemption: RedemptionService;
  outcomes: OutcomeService;
  projections: ProjectionService;
  wallet: WalletService;
  statistics: StatisticsService;
}

/** Redeemed token ids are kept a day: far beyond any token's lifetime, after which replays are expired anyway. */
const TOKEN_RETENTION_MS = 24 * 3600_000;

function build(deps: Deps): VouchersServices {
  const lifecycle = new Lifecycle(deps);
  const rules = new RuleService(deps);
  return {
    deps,
    lifecycle,
    rules,
    batches: new BatchService(deps, rules, lifecycle),
    templates: new TemplateService(deps, rules),
    claims: new ClaimService(deps),
    redemption: new RedemptionService(deps, lifecycle),
    outcomes: new OutcomeService(deps, lifecycle),
    projections: new ProjectionService(deps),
    wallet: new WalletService(deps),
    statistics: new StatisticsService(deps),
  };
}

/** One set of domain services per process, shared by the resolvers and the event handlers. */
const built = new WeakMap<object, VouchersServices>();

export const vouchers = defineService<VouchersServices, VouchersConfig>({
  name: 'vouchers',
  typeDefs: loadTypeDefs(join(__dirname, 'schema.graphql')),
  resolvers,
  config: vouchersConfig,
  entities: ENTITIES,
  migrations,
  consumes: {
    topics: [
      TOPICS.trainingClass.name,
      TOPICS.trainingEnrollment.name,
      TOPICS.trainingInstitution.name,
      TOPICS.settlementDisbursement.name,
      TOPICS.identityPerson.name,
    ],
    handlers: (d) => {
      const s = servicesFor(d);
      return [
        onClassPlanApproved(s.batches),
        onRosterChanged(s.batches),
        onEnrollmentCreated(s.redemption),
        onCompletionRecorded(s.outcomes),
        onInstitutionActivationChanged(s.projections),
        onOperatorMembershipChanged(s.projections),
        onSubsidyDisbursed(s.outcomes),
        onCardIssued(s.projections),
      ];
    },
  },
  services: (d) => servicesFor(d),
  jobs: (d, s) => [
    new PollingJob({
      name: 'vouchers.expiry',
      intervalMs: d.config.VOUCHER_EXPIRY_INTERVAL_MS,
      run: () => s.lifecycle.expireDue(),
      logger: d.logger,
    }),
    new PollingJob({
      name: 'vouchers.redeemed-token-purge',
      intervalMs: 10 * 60_000,
      run: () => s.deps.repos.vouchers.purgeTokens(new Date(s.deps.now().getTime() - TOKEN_RETENTION_MS)),
      logger: d.logger,
    }),
  ],
});

function servicesFor(d: ServiceDeps<VouchersConfig>): VouchersServices {
  let s = built.get(d);
  if (!s) {
    const keys = voucherKeys(d.config);
    s = build({
      ds: d.ds,
      repos: createRepositories(d.ds),
      cache: d.cache,
      logger: d.logger,
      config: d.config,
      tokens: d.tokens,
      qr: new QrTokenCodec(keys.qr, d.config.VOUCHER_QR_TTL_SECONDS),
      codeKey: keys.code,
      now: () => new Date(),
    });
    built.set(d, s);
  }
  return s;
}
