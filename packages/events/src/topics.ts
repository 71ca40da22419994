import type { DescMessage } from '@bufbuild/protobuf';
import {
  AttendanceRecordedSchema,
  CardIssuedSchema,
  CertificateImportedSchema,
  CertificateRecordedSchema,
  ClassPlanApprovedSchema,
  ClassPlanRejectedSchema,
  ClientChangedSchema,
  CompletionRecordedSchema,
  EnrollmentCreatedSchema,
  InstitutionActivationChangedSchema,
  OperatorMembershipChangedSchema,
  RolePermissionsChangedSchema,
  RosterChangedSchema,
  StaffRoleChangedSchema,
  StaffUserCreatedSchema,
  StaffUserStatusChangedSchema,
  SubsidyApplicationStateChangedSchema,
  SubsidyDisbursedSchema,
  VoucherBatchStateChangedSchema,
  VoucherIssuedSchema,
  VoucherStateChangedSchema,
  VoucherTemplateAudienceAddedSchema,
  VoucherTemplateClosedSchema,
  VoucherTemplatePublishedSchema,
} from './gen';

export interface TopicSpec {
  name: string;
  description: string;
  /** What the Kafka key holds. */
  key: string;
  partitions: number;
  retentionMs: number;
  cleanupPolicy: 'delete' | 'compact';
  producer: string;
  consumers: string[];
  events: DescMessage[];
}

const DAY = 24 * 60 * 60 * 1000;

/**
 * The one registry of topics: topic creation, documentation and consumers all read it.
 * Names follow <producing service>.<aggregate>.v<major>.
 */
export const TOPICS = {
  identityPerson: {
    name: 'identity.person.v1',
    description: 'Facts about people and their e-SSC (电子社保卡). No names, ID numbers or phones.',
    key: 'person id',
    partitions: 6,
    retentionMs: 30 * DAY,
    cleanupPolicy: 'delete',
    producer: 'identity',
    consumers: ['vouchers'],
    events: [CardIssuedSchema],
  },
  identityStaff: {
    name: 'identity.staff.v1',
    description:
      'HRSS administration (系统管理): staff users, their roles and status, roles, integrator clients. No names, ID numbers or phones.',
    key: 'staff user, role or client id',
    partitions: 3,
    retentionMs: 90 * DAY,
    cleanupPolicy: 'delete',
    producer: 'identity',
    consumers: [],
    events: [
      StaffUserCreatedSchema,
      StaffUserStatusChangedSchema,
      StaffRoleChangedSchema,
      RolePermissionsChangedSchema,
      ClientChangedSchema,
    ],
  },
  trainingClass: {
    name: 'training.class.v1',
    description: 'Class plans (开班方案): approval, rejection and roster changes.',
    key: 'class id',
    partitions: 6,
    retentionMs: 30 * DAY,
    cleanupPolicy: 'delete',
    producer: 'training',
    consumers: ['vouchers', 'settlement', 'careers'],
    events: [ClassPlanApprovedSchema, ClassPlanRejectedSchema, RosterChangedSchema],
  },
  trainingEnrollment: {
    name: 'training.enrollment.v1',
    description: 'Enrollments (报名), attendance check-ins (打卡签到) and completion results (结业审核).',
    key: 'class id',
    partitions: 12,
    retentionMs: 30 * DAY,
    cleanupPolicy: 'delete',
    producer: 'training',
    consumers: ['vouchers', 'settlement', 'careers'],
    events: [EnrollmentCreatedSchema, AttendanceRecordedSchema, CompletionRecordedSchema],
  },
  trainingInstitution: {
    name: 'training.institution.v1',
    description: 'Institution activation for issuance (关联部端) and operator (经办人) membership.',
    key: 'institution id',
    partitions: 3,
    retentionMs: 30 * DAY,
    cleanupPolicy: 'delete',
    producer: 'training',
    consumers: ['vouchers', 'settlement'],
    events: [InstitutionActivationChangedSchema, OperatorMembershipChangedSchema],
  },
  vouchersVoucher: {
    name: 'vouchers.voucher.v1',
    description: 'Voucher lifecycle: issued or claimed, used, settled, expired, invalidated. Never the code.',
    key: 'voucher id',
    partitions: 12,
    retentionMs: 30 * DAY,
    cleanupPolicy: 'delete',
    producer: 'vouchers',
    consumers: ['settlement', 'careers'],
    events: [VoucherIssuedSchema, VoucherStateChangedSchema],
  },
  vouchersBatch: {
    name: 'vouchers.batch.v1',
    description:
      'Directed-voucher batches (定向券批次): created, submitted, reviewed, rejected, issued, supplemented, invalidated.',
    key: 'batch id',
    partitions: 3,
    retentionMs: 30 * DAY,
    cleanupPolicy: 'delete',
    producer: 'vouchers',
    consumers: [],
    events: [VoucherBatchStateChangedSchema],
  },
  vouchersTemplate: {
    name: 'vouchers.template.v1',
    description:
      'General-voucher templates (通用券): published, closed, and pre-computed audiences that may be notified.',
    key: 'template id',
    partitions: 3,
    retentionMs: 30 * DAY,
    cleanupPolicy: 'delete',
    producer: 'vouchers',
    consumers: [],
    events: [VoucherTemplatePublishedSchema, VoucherTemplateAudienceAddedSchema, VoucherTemplateClosedSchema],
  },
  settlementDisbursement: {
    name: 'settlement.disbursement.v1',
    description: 'Subsidy payments (拨付); each settles (核销) the vouchers it lists.',
    key: 'application id',
    partitions: 3,
    retentionMs: 90 * DAY,
    cleanupPolicy: 'delete',
    producer: 'settlement',
    consumers: ['vouchers'],
    events: [SubsidyDisbursedSchema],
  },
  settlementApplication: {
    name: 'settlement.application.v1',
    description:
      'Subsidy applications (补贴申请): submitted, reviewed, rejected, paid; counts and totals only, no personal data.',
    key: 'application id',
    partitions: 3,
    retentionMs: 90 * DAY,
    cleanupPolicy: 'delete',
    producer: 'settlement',
    consumers: [],
    events: [SubsidyApplicationStateChangedSchema],
  },
  careersCertificate: {
    name: 'careers.certificate.v1',
    description: 'Certificates recorded for people (training, vocational qualification, skill level).',
    key: 'person id',
    partitions: 6,
    retentionMs: 30 * DAY,
    cleanupPolicy: 'delete',
    producer: 'careers',
    consumers: ['settlement'],
    events: [CertificateRecordedSchema],
  },
  careersCertificateImport: {
    name: 'careers.certificate-import.v1',
    description:
      'Certificates imported by integrators (appraisal centres, certification bodies, institutions). No names or ID numbers.',
    key: 'person id',
    partitions: 6,
    retentionMs: 30 * DAY,
    cleanupPolicy: 'delete',
    producer: 'integrators',
    consumers: ['careers'],
    events: [CertificateImportedSchema],
  },
} satisfies Record<string, TopicSpec>;

export const SERVICES = ['identity', 'vouchers', 'training', 'settlement', 'careers'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** Where a service's consumer parks events it could not handle after its retries. */
export function deadLetterTopic(service: string): string {
  return `${service}.deadletter.v1`;
}

export function allTopicSpecs(): TopicSpec[] {
  const domain: TopicSpec[] = Object.values(TOPICS);
  const deadLetters: TopicSpec[] = SERVICES.map((s) => ({
    name: deadLetterTopic(s),
    description: `Events the ${s} consumers gave up on, with the failure in the x-error header; re-drivable.`,
    key: 'original key',
    partitions: 1,
    retentionMs: 90 * DAY,
    cleanupPolicy: 'delete',
    producer: s,
    consumers: [],
    events: [],
  }));
  return [...domain, ...deadLetters];
}
