import { defineService, loadTypeDefs } from '@vtv/runtime';
import { join } from 'node:path';
import { careersConfig, type CareersConfig } from './config';
import { CertificateRow, JobPostingRow } from './data/entities';
import { migrations } from './data/migrations';
import { CertificateRepository, JobPostingRepository } from './data/repositories';
import { resolvers } from './resolvers';
import { CertificateService } from './services/certificates';
import { JobPostingService } from './services/job-postings';

export interface CareersServices {
  certificates: CertificateService;
  jobPostings: JobPostingService;
}

export const careers = defineService<CareersServices, CareersConfig>({
  name: 'careers',
  typeDefs: loadTypeDefs(join(__dirname, 'schema.graphql')),
  resolvers,
  config: careersConfig,
  entities: [CertificateRow, JobPostingRow],
  migrations,
  services: ({ ds }) => ({
    certificates: new CertificateService(new CertificateRepository(ds)),
    jobPostings: new JobPostingService(new JobPostingRepository(ds)),
  }),
});
