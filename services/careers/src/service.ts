import { TOPICS } from '@vtv/events';
import { defineService, loadTypeDefs, PollingJob, type ServiceDeps } from '@vtv/runtime';
import { join } from 'node:path';
import { careersConfig, type CareersConfig } from './config';
import { ENTITIES } from './data/entities';
import { migrations } from './data/migrations';
import {
  AccessLogRepository,
  ArchiveRepository,
  CertificateRepository,
  ConsentRepository,
  InboxRepository,
  JobPostingRepository,
  RecommendationRepository,
  SmsRepository,
} from './data/repositories';
import { onAttendanceRecorded } from './events/attendance-recorded';
import { onCertificateImported } from './events/certificate-imported';
import { onClassPlanApproved } from './events/class-plan-approved';
import { onCompletionRecorded } from './events/completion-recorded';
import { onEnrollmentCreated } from './events/enrollment-created';
import { onRosterChanged } from './events/roster-changed';
import { onVoucherIssued } from './events/voucher-issued';
import { onVoucherStateChanged } from './events/voucher-state-changed';
import { resolvers } from './resolvers';
import { AccessLogService } from './services/access';
import { ArchiveService } from './services/archive';
import { CertificateService } from './services/certificates';
import { ConsentService } from './services/consent';
import { InboxService } from './services/inbox';
import { JobPostingService } from './services/job-postings';
import { RecommendationService } from './services/recommendations';
import { SmsDispatcher } from './services/sms/dispatcher';
import { HttpSmsProvider } from './services/sms/provider';
import { parseQuietHours } from './services/sms/schedule';

export interface CareersServices {
  certificates: CertificateService;
  jobPostings: JobPostingService;
  archive: ArchiveService;
  consents: ConsentService;
  recommendations: RecommendationService;
  inbox: InboxService;
  accessLog: AccessLogService;
  /** The SMS sender; null when SMS_PROVIDER_URL is not set (SMS off). */
  sms: SmsDispatcher | null;
}

interface Domain extends CareersServices {
  repositories: {
    certificates: CertificateRepository;
    archive: ArchiveRepository;
  };
}

// One set of domain objects per running service, shared by resolvers, consumers and jobs.
const domains = new WeakMap<ServiceDeps<CareersConfig>, Domain>();

function domain(deps: ServiceDeps<CareersConfig>): Domain {
  const existing = domains.get(deps);
  if (existing) return existing;
  const { ds, config, logger } = deps;
  const certificateRepo = new CertificateRepository(ds);
  const archiveRepo = new ArchiveRepository(ds);
  const consentRepo = new ConsentRepository(ds);
  const accessLogRepo = new AccessLogRepository(ds);
  const recommendationRepo = new RecommendationRepository(ds);
  const inboxRepo = new InboxRepository(ds);
  const smsRepo = new SmsRepository(ds);

  const accessLog = new AccessLogService(accessLogRepo);
  const jobPostingRepo = new JobPostingRepository(ds);
  const recommendations = new RecommendationService(
    recommendationRepo,
    jobPostingRepo,
    consentRepo,
    inboxRepo,
    smsRepo,
    accessLogRepo,
    { maxPerRefresh: config.RECOMMENDATIONS_MAX_PER_REFRESH, smsEnabled: !!config.SMS_PROVIDER_URL },
  );
  const sms =
    config.SMS_PROVIDER_URL && config.SMS_API_KEY
      ? new SmsDispatcher(
          ds,
          smsRepo,
          consentRepo,
          accessLogRepo,
          new HttpSmsProvider({
            url: config.SMS_PROVIDER_URL,
            apiKey: config.SMS_API_KEY,
            apiKeyHeader: config.SMS_API_KEY_HEADER,
            timeoutMs: config.SMS_TIMEOUT_MS,
          }),
          {
            maxPerDay: config.SMS_MAX_PER_DAY,
            quietHours: parseQuietHours(config.SMS_QUIET_HOURS) ?? null,
            maxAttempts: config.SMS_MAX_ATTEMPTS,
            retryBaseMs: config.SMS_RETRY_BASE_MS,
            retryMaxMs: config.SMS_RETRY_MAX_MS,
          },
          logger.child({ component: 'sms' }),
        )
      : null;
  const d: Domain = {
    certificates: new CertificateService(
      ds,
      certificateRepo,
      archiveRepo,
      accessLogRepo,
      accessLog,
      recommendations,
    ),
    jobPostings: new JobPostingService(ds, jobPostingRepo, recommendations),
    archive: new ArchiveService(archiveRepo, certificateRepo, accessLog),
    consents: new ConsentService(
      ds,
      consentRepo,
      recommendationRepo,
      smsRepo,
      recommendations,
      config.CONSENT_MAX_DAYS,
    ),
    recommendations,
    inbox: new InboxService(inboxRepo),
    accessLog,
    sms,
    repositories: { certificates: certificateRepo, archive: archiveRepo },
  };
  domains.set(deps, d);
  return d;
}

export const careers = defineService<CareersServices, CareersConfig>({
  name: 'careers',
  typeDefs: loadTypeDefs(join(__dirname, 'schema.graphql')),
  resolvers,
  config: careersConfig,
  entities: ENTITIES,
  migrations,
  consumes: {
    topics: [
      TOPICS.trainingClass.name,
      TOPICS.trainingEnrollment.name,
      TOPICS.vouchersVoucher.name,
      TOPICS.careersCertificateImport.name,
    ],
    handlers: (deps) => {
      const d = domain(deps);
      const log = deps.logger.child({ component: 'consumer' });
      return [
        onClassPlanApproved(d.repositories.archive, log),
        onRosterChanged(d.repositories.archive, log),
        onEnrollmentCreated(d.repositories.archive, log),
        onAttendanceRecorded(d.repositories.archive, log),
        onCompletionRecorded(d.repositories.archive, d.recommendations, log),
        onVoucherIssued(d.repositories.archive, log),
        onVoucherStateChanged(d.repositories.archive, log),
        onCertificateImported(d.certificates, d.repositories.certificates, log),
      ];
    },
  },
  services: (deps) => {
    const { repositories: _repositories, ...services } = domain(deps);
    if (!services.sms)
      deps.logger.info('SMS_PROVIDER_URL not set: SMS is off, recommendations go to the inbox');
    return services;
  },
  jobs: (deps, services) =>
    services.sms
      ? [
          new PollingJob({
            name: 'sms-sender',
            run: () => services.sms!.dispatchDue(),
            intervalMs: deps.config.SMS_POLL_MS,
            logger: deps.logger,
          }),
        ]
      : [],
});
