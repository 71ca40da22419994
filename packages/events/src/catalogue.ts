/**
 * The event catalogue: the topic registry (topics.ts) plus an example payload per event type. Everything
 * published about the topics — docs/events.md, docs/asyncapi.yaml — is generated from here by
 * `npm run events:docs`, so the documentation cannot drift from what the code creates and consumes.
 *
 * Examples are realistic but privacy-safe: people appear as opaque UUIDv7 ids only, never names, ID
 * numbers, phones or voucher codes (a unit test runs the privacy scanner over every example).
 */
import {
  create,
  toBinary,
  toJson,
  ScalarType,
  type DescField,
  type DescMessage,
  type JsonObject,
  type MessageInitShape,
} from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  AttendanceRecordedSchema,
  CardIssuedSchema,
  CertificateKind,
  CertificateRecordedSchema,
  CheckInMethod,
  ClassPlanApprovedSchema,
  ClassPlanRejectedSchema,
  CompletionRecordedSchema,
  EnrollmentCreatedSchema,
  FunctionMode,
  InstitutionActivationChangedSchema,
  OperatorMembershipChangedSchema,
  RosterChangedSchema,
  SubsidyDisbursedSchema,
  VoucherIssuedSchema,
  VoucherState,
  VoucherStateChangedSchema,
} from './gen';
import { allTopicSpecs, deadLetterTopic, type TopicSpec } from './topics';

export interface EventExample {
  /** ce_subject and the Kafka key. */
  subject: string;
  /** The payload in protobuf's canonical JSON form (what `npm run events -- tail` prints). */
  json: JsonObject;
  /** The payload as it travels (protobuf binary). */
  binary: Uint8Array;
  /** True when no hand-written example exists and this one was made up from the schema. */
  synthesised: boolean;
}

const at = (iso: string) => timestampFromDate(new Date(iso));

// Opaque ids used across the examples, so one story reads through the topics.
const PERSON = '0193a5c0-7d2e-7b41-9c3a-5e8f1d2a4b60';
const PERSON_2 = '0193a5c0-7d2e-7b41-9c3a-5e8f1d2a4b61';
const OPERATOR = '0193a5c1-1a10-7c22-8d4e-6f7a8b9c0d12';
const STAFF = '0193a5c1-2b20-7d33-9e5f-7a8b9c0d1e23';
const INSTITUTION = '0193a5c2-3c30-7e44-8f60-8b9c0d1e2f34';
const CLASS = '0193a5c3-4d40-7f55-9071-9c0d1e2f3a45';
const ENROLLMENT = '0193a5c4-5e50-7066-8182-0d1e2f3a4b56';
const SESSION = '0193a5c4-6f60-7177-9293-1e2f3a4b5c67';
const VOUCHER = '0193a5c5-7070-7288-a3a4-2f3a4b5c6d78';
const BATCH = '0193a5c5-8180-7399-b4b5-3a4b5c6d7e89';
const APPLICATION = '0193a5c6-9290-74aa-85c6-4b5c6d7e8f9a';
const DISBURSEMENT = '0193a5c6-a3a0-75bb-96d7-5c6d7e8f9aab';
const CERTIFICATE = '0193a5c7-b4b0-76cc-a7e8-6d7e8f9aabbc';
const WUHAN = '420100';

interface HandWritten<Desc extends DescMessage = DescMessage> {
  schema: Desc;
  subject: string;
  data: MessageInitShape<Desc>;
}

function example<Desc extends DescMessage>(
  schema: Desc,
  subject: string,
  data: MessageInitShape<Desc>,
): HandWritten {
  return { schema, subject, data } as unknown as HandWritten;
}

/** One example per event type, keyed by ce_type. */
const HAND_WRITTEN: HandWritten[] = [
  example(CardIssuedSchema, PERSON, {
    personId: PERSON,
    regionCode: WUHAN,
    birthYear: 1991,
    issuedAt: at('2025-02-10T09:30:00Z'),
  }),
  example(ClassPlanApprovedSchema, CLASS, {
    classId: CLASS,
    institutionId: INSTITUTION,
    regionCode: WUHAN,
    name: '数控车工（初级）2025年春季班',
    occupation: '6-18-01-01',
    trainingType: 'EMPLOYMENT_SKILLS',
    level: 'LEVEL_5',
    headcount: 30,
    startDate: '2025-03-03',
    endDate: '2025-04-25',
    rosterPersonIds: [PERSON, PERSON_2],
    approvedAt: at('2025-02-20T02:15:00Z'),
    approvedBy: STAFF,
  }),
  example(ClassPlanRejectedSchema, CLASS, {
    classId: CLASS,
    institutionId: INSTITUTION,
    regionCode: WUHAN,
    reason: '课时安排不足 80 学时',
    rejectedAt: at('2025-02-18T06:00:00Z'),
  }),
  example(RosterChangedSchema, CLASS, {
    classId: CLASS,
    institutionId: INSTITUTION,
    regionCode: WUHAN,
    addedPersonIds: [PERSON_2],
    removedPersonIds: [],
    changedAt: at('2025-02-25T03:00:00Z'),
  }),
  example(EnrollmentCreatedSchema, CLASS, {
    enrollmentId: ENROLLMENT,
    classId: CLASS,
    institutionId: INSTITUTION,
    personId: PERSON,
    regionCode: WUHAN,
    occupation: '6-18-01-01',
    trainingType: 'EMPLOYMENT_SKILLS',
    online: false,
    enrolledAt: at('2025-02-26T08:45:00Z'),
  }),
  example(AttendanceRecordedSchema, CLASS, {
    enrollmentId: ENROLLMENT,
    classId: CLASS,
    personId: PERSON,
    sessionId: SESSION,
    method: CheckInMethod.LOCATION,
    distanceBucketM: 100,
    attendanceRateBp: 8500,
    checkedInAt: at('2025-03-10T00:58:00Z'),
  }),
  example(CompletionRecordedSchema, CLASS, {
    enrollmentId: ENROLLMENT,
    classId: CLASS,
    institutionId: INSTITUTION,
    personId: PERSON,
    regionCode: WUHAN,
    passed: true,
    attendanceRateBp: 9200,
    reviewerId: STAFF,
    occupation: '6-18-01-01',
    level: 'LEVEL_5',
    recordedAt: at('2025-04-28T07:00:00Z'),
  }),
  example(InstitutionActivationChangedSchema, INSTITUTION, {
    institutionId: INSTITUTION,
    regionCode: WUHAN,
    active: true,
    changedAt: at('2025-01-15T01:00:00Z'),
  }),
  example(OperatorMembershipChangedSchema, INSTITUTION, {
    institutionId: INSTITUTION,
    operatorPersonId: OPERATOR,
    enabled: true,
    main: true,
    changedAt: at('2025-01-15T01:05:00Z'),
  }),
  example(VoucherIssuedSchema, VOUCHER, {
    voucherId: VOUCHER,
    holderPersonId: PERSON,
    regionCode: WUHAN,
    functionMode: FunctionMode.FACE_VALUE,
    faceValueFen: 180000n,
    trainingType: 'EMPLOYMENT_SKILLS',
    occupation: '6-18-01-01',
    classId: CLASS,
    batchId: BATCH,
    templateId: '',
    claimed: false,
    validUntil: at('2025-12-31T15:59:59Z'),
    issuedAt: at('2025-02-20T02:20:00Z'),
  }),
  example(VoucherStateChangedSchema, VOUCHER, {
    voucherId: VOUCHER,
    holderPersonId: PERSON,
    regionCode: WUHAN,
    fromState: VoucherState.HELD,
    toState: VoucherState.USED,
    institutionId: INSTITUTION,
    classId: CLASS,
    enrollmentId: ENROLLMENT,
    actorId: OPERATOR,
    reason: '',
    faceValueFen: 180000n,
    functionMode: FunctionMode.FACE_VALUE,
    trainingType: 'EMPLOYMENT_SKILLS',
    changedAt: at('2025-03-03T01:10:00Z'),
  }),
  example(SubsidyDisbursedSchema, APPLICATION, {
    disbursementId: DISBURSEMENT,
    applicationId: APPLICATION,
    institutionId: INSTITUTION,
    classId: CLASS,
    regionCode: WUHAN,
    amountFen: 5220000n,
    voucherIds: [VOUCHER],
    paidAt: at('2025-05-20T06:30:00Z'),
  }),
  example(CertificateRecordedSchema, PERSON, {
    certificateId: CERTIFICATE,
    personId: PERSON,
    regionCode: WUHAN,
    kind: CertificateKind.SKILL_LEVEL,
    occupation: '6-18-01-01',
    level: 'LEVEL_5',
    issuer: '武汉市职业技能鉴定指导中心',
    issuedAt: at('2025-05-08T02:00:00Z'),
  }),
];

const BY_TYPE = new Map(HAND_WRITTEN.map((e) => [e.schema.typeName, e]));

/** A placeholder value for one field, from its name and type (for types without a hand-written example). */
function placeholder(field: DescField): unknown {
  const one = (): unknown => {
    if (field.enum) return field.enum.values.find((v) => v.number !== 0)?.number ?? 0;
    if (field.message) {
      if (field.message.typeName === 'google.protobuf.Timestamp') return at('2025-03-01T00:00:00Z');
      return synthesise(field.message);
    }
    switch (field.scalar) {
      case ScalarType.STRING:
        if (/(^|_)ids?$/.test(field.name)) return '0193a5c0-0000-7000-8000-000000000000';
        if (field.name === 'region_code') return WUHAN;
        return field.name;
      case ScalarType.BOOL:
        return true;
      case ScalarType.BYTES:
        return new Uint8Array([1]);
      case ScalarType.INT64:
      case ScalarType.UINT64:
      case ScalarType.SINT64:
      case ScalarType.FIXED64:
      case ScalarType.SFIXED64:
        return 1n;
      default:
        return 1;
    }
  };
  if (field.fieldKind === 'list') return [one()];
  if (field.fieldKind === 'map') return {};
  return one();
}

function synthesise(schema: DescMessage): Record<string, unknown> {
  return Object.fromEntries(schema.fields.map((f) => [f.localName, placeholder(f)]));
}

/** The example for an event type: hand-written when there is one, else made up from the schema. */
export function exampleFor(schema: DescMessage): EventExample {
  const hand = BY_TYPE.get(schema.typeName);
  const data = hand ? hand.data : synthesise(schema);
  const message = create(schema, data as MessageInitShape<DescMessage>);
  return {
    subject: hand?.subject ?? '0193a5c0-0000-7000-8000-000000000000',
    json: toJson(schema, message, { alwaysEmitImplicit: true }) as JsonObject,
    binary: toBinary(schema, message),
    synthesised: !hand,
  };
}

/** Event types with a hand-written example. */
export function handWrittenExampleTypes(): string[] {
  return [...BY_TYPE.keys()];
}

export interface CatalogueTopic extends TopicSpec {
  /** Dead-letter topics: where a consuming service parks what it gave up on. */
  deadLetter: boolean;
  /** For a dead-letter topic: the topics whose events can land in it (those its service consumes). */
  carries: string[];
}

/** Every topic with what the docs need: domain topics first (registry order), then dead letters. */
export function catalogue(): CatalogueTopic[] {
  const specs = allTopicSpecs();
  const deadLetterNames = new Set(specs.map((s) => deadLetterTopic(s.producer)));
  return specs.map((s) => {
    const deadLetter = deadLetterNames.has(s.name) && s.events.length === 0;
    return {
      ...s,
      deadLetter,
      carries: deadLetter ? specs.filter((t) => t.consumers.includes(s.producer)).map((t) => t.name) : [],
    };
  });
}
