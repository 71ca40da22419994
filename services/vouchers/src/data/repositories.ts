import type { DataSource } from 'typeorm';
import { ApprovedClassRepository, BatchRepository } from './batches';
import { AuditRepository, ProjectionRepository } from './projections';
import { RuleRepository } from './rules';
import { StatisticsRepository } from './statistics';
import { TemplateRepository } from './templates';
import { VoucherRepository } from './vouchers';

export * from './batches';
export * from './projections';
export * from './rules';
export * from './statistics';
export * from './templates';
export * from './vouchers';

/** Every repository of the service, built once over its data source. */
export interface Repositories {
  vouchers: VoucherRepository;
  classes: ApprovedClassRepository;
  batches: BatchRepository;
  templates: TemplateRepository;
  rules: RuleRepository;
  projections: ProjectionRepository;
  statistics: StatisticsRepository;
  audit: AuditRepository;
}

export function createRepositories(ds: DataSource): Repositories {
  return {
    vouchers: new VoucherRepository(ds),
    classes: new ApprovedClassRepository(ds),
    batches: new BatchRepository(ds),
    templates: new TemplateRepository(ds),
    rules: new RuleRepository(ds),
    projections: new ProjectionRepository(ds),
    statistics: new StatisticsRepository(ds),
    audit: new AuditRepository(),
  };
}
