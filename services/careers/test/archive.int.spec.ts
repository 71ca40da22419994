/**
 * The lifelong training e-archive assembled across Kafka: a class plan approved in training, a voucher
 * issued and used in vouchers, enrollment, attendance and completion in training, a certificate imported
 * by an integrator and the voucher settled — each published as the producing domain would, consumed by
 * careers and shown to the holder in time order, exportable by the holder only.
 */
import {
  AttendanceRecordedSchema,
  CertificateImportedSchema,
  CertificateKind,
  CheckInMethod,
  ClassPlanApprovedSchema,
  CompletionRecordedSchema,
  RosterChangedSchema,
  EnrollmentCreatedSchema,
  FunctionMode,
  TOPICS,
  VoucherIssuedSchema,
  VoucherState,
  VoucherStateChangedSchema,
  type EventRecord,
} from '@vtv/events';
import { uuidv7, type Caller } from '@vtv/kit';
import { contractEvent, daysFromToday, eventually, person, startHarness, ts, type Harness } from './harness';

const DAY = 24 * 60 * 60 * 1000;
const ago = (days: number, hours = 0) => new Date(Date.now() - days * DAY + hours * 60 * 60 * 1000);

const ARCHIVE = `query ($reps: [_Any!]!, $first: Int, $after: String, $types: [ArchiveEntryType!]) {
  _entities(representations: $reps) {
    ... on Person {
      archive(first: $first, after: $after, types: $types) {
        edges { cursor node { type occurredAt summary regionCode occupation level classId voucherId enrollmentId faceValueFen attendanceRateBp passed certificate { id number } } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}`;
const EXPORT = `mutation ($format: ArchiveExportFormat!) {
  exportMyArchive(format: $format) { export { format contentType filename entryCount content generatedAt } errors { code } }
}`;

const EXPECTED_ORDER = [
  'TRAINING_PLANNED',
  'VOUCHER_ISSUED',
  'ENROLLED',
  'VOUCHER_USED',
  'ATTENDANCE',
  'ATTENDANCE',
  'COMPLETION_PASSED',
  'VOUCHER_SETTLED',
  'CERTIFICATE',
];

type Node = {
  type: string;
  occurredAt: string;
  summary: string;
  certificate: { id: string; number: string } | null;
};

describe('lifelong training e-archive', () => {
  let h: Harness;
  const holder = uuidv7();
  const classmate = uuidv7();
  const latecomer = uuidv7();
  const classId = uuidv7();
  const institutionId = uuidv7();
  const enrollmentId = uuidv7();
  const voucherId = uuidv7();
  const certificateNumber = `S${Date.now()}`;
  let flow: EventRecord[];

  const reps = (id: string) => [{ __typename: 'Person', id }];
  async function archiveOf(caller: Caller, id: string, variables: Record<string, unknown> = {}) {
    const res = await h.gql(caller, ARCHIVE, { reps: reps(id), ...variables });
    expect(res.body.errors).toBeUndefined();
    return res.body.data._entities[0].archive as {
      edges: { cursor: string; node: Node }[];
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
    } | null;
  }

  beforeAll(async () => {
    h = await startHarness('careers_archive', { kafka: true });
    const training = '/vtv/training';
    const vouchers = '/vtv/vouchers';
    const approved = contractEvent(ClassPlanApprovedSchema, TOPICS.trainingClass.name, classId, training, {
      classId,
      institutionId,
      regionCode: '420102',
      name: '电工（四级）培训班',
      occupation: '电工',
      trainingType: '岗位技能提升培训',
      level: '四级',
      headcount: 30,
      startDate: daysFromToday(-18),
      endDate: daysFromToday(-3),
      rosterPersonIds: [holder, classmate],
      approvedAt: ts(ago(20)),
      approvedBy: uuidv7(),
    });
    flow = [
      contractEvent(RosterChangedSchema, TOPICS.trainingClass.name, classId, training, {
        classId,
        institutionId,
        regionCode: '420102',
        addedPersonIds: [latecomer],
        removedPersonIds: [],
        changedAt: ts(ago(19, 2)),
      }),
      contractEvent(VoucherIssuedSchema, TOPICS.vouchersVoucher.name, voucherId, vouchers, {
        voucherId,
        holderPersonId: holder,
        regionCode: '420102',
        functionMode: FunctionMode.FACE_VALUE,
        faceValueFen: 120_000n,
        trainingType: '岗位技能提升培训',
        occupation: '电工',
        classId,
        batchId: uuidv7(),
        claimed: false,
        validUntil: ts(new Date(Date.now() + 90 * DAY)),
        issuedAt: ts(ago(19)),
      }),
      contractEvent(EnrollmentCreatedSchema, TOPICS.trainingEnrollment.name, classId, training, {
        enrollmentId,
        classId,
        institutionId,
        personId: holder,
        regionCode: '420102',
        occupation: '电工',
        trainingType: '岗位技能提升培训',
        online: false,
        enrolledAt: ts(ago(18)),
      }),
      contractEvent(VoucherStateChangedSchema, TOPICS.vouchersVoucher.name, voucherId, vouchers, {
        voucherId,
        holderPersonId: holder,
        regionCode: '420102',
        fromState: VoucherState.HELD,
        toState: VoucherState.USED,
        institutionId,
        classId,
        enrollmentId,
        actorId: holder,
        faceValueFen: 120_000n,
        functionMode: FunctionMode.FACE_VALUE,
        trainingType: '岗位技能提升培训',
        changedAt: ts(ago(18, 1)),
      }),
      contractEvent(AttendanceRecordedSchema, TOPICS.trainingEnrollment.name, classId, training, {
        enrollmentId,
        classId,
        personId: holder,
        sessionId: uuidv7(),
        method: CheckInMethod.LOCATION,
        distanceBucketM: 100,
        attendanceRateBp: 5000,
        checkedInAt: ts(ago(10)),
      }),
      contractEvent(AttendanceRecordedSchema, TOPICS.trainingEnrollment.name, classId, training, {
        enrollmentId,
        classId,
        personId: holder,
        sessionId: uuidv7(),
        method: CheckInMethod.CLASS_QR,
        attendanceRateBp: 10_000,
        checkedInAt: ts(ago(9)),
      }),
      contractEvent(CompletionRecordedSchema, TOPICS.trainingEnrollment.name, classId, training, {
        enrollmentId,
        classId,
        institutionId,
        personId: holder,
        regionCode: '420102',
        passed: true,
        attendanceRateBp: 10_000,
        reviewerId: uuidv7(),
        occupation: '电工',
        level: '四级',
        recordedAt: ts(ago(2)),
      }),
      contractEvent(VoucherStateChangedSchema, TOPICS.vouchersVoucher.name, voucherId, vouchers, {
        voucherId,
        holderPersonId: holder,
        regionCode: '420102',
        fromState: VoucherState.USED,
        toState: VoucherState.SETTLED,
        institutionId,
        classId,
        enrollmentId,
        actorId: 'settlement',
        faceValueFen: 120_000n,
        functionMode: FunctionMode.FACE_VALUE,
        changedAt: ts(ago(1)),
      }),
      contractEvent(
        CertificateImportedSchema,
        TOPICS.careersCertificateImport.name,
        holder,
        '/integrators/osta',
        {
          personId: holder,
          regionCode: '420102',
          kind: CertificateKind.SKILL_LEVEL,
          occupation: '电工',
          level: 'LEVEL_4',
          issuer: '武汉市职业技能鉴定指导中心',
          number: certificateNumber,
          issuedOn: daysFromToday(0),
          integratorId: 'client-osta',
          importedAt: ts(new Date()),
        },
      ),
    ];
    // The class first, so later summaries can name it; then the rest from three topics at once.
    await h.publish([approved]);
    await eventually(async () =>
      (await archiveOf(person(holder), holder))?.edges.length ? true : undefined,
    );
    await h.publish(flow);
    await eventually(
      async () =>
        (await archiveOf(person(holder), holder))?.edges.length === EXPECTED_ORDER.length ? true : undefined,
      30_000,
      'the whole flow in the archive',
    );
  });

  afterAll(async () => {
    await h?.stop();
  });

  it('shows the holder every fact in time order, described without personal data', async () => {
    const archive = (await archiveOf(person(holder), holder))!;
    const nodes = archive.edges.map((e) => e.node);
    expect(nodes.map((n) => n.type)).toEqual(EXPECTED_ORDER);
    const times = nodes.map((n) => Date.parse(n.occurredAt));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(nodes.map((n) => n.summary)).toEqual([
      `列入开班名单：电工（四级）培训班（电工（四级），岗位技能提升培训，${daysFromToday(-18)} 至 ${daysFromToday(-3)}）`,
      expect.stringMatching(
        /^获发职业培训券：电工，岗位技能提升培训（面值 1,200\.00 元，有效期至 \d{4}-\d{2}-\d{2}）$/,
      ),
      '报名培训：电工（四级）培训班（岗位技能提升培训，线下）',
      '使用职业培训券：电工（四级）培训班（面值 1,200.00 元）',
      '培训签到：电工（四级）培训班（位置签到），累计出勤率 50.00%',
      '培训签到：电工（四级）培训班（扫码签到），累计出勤率 100.00%',
      '结业审核通过：电工（四级）培训班（电工（四级）），出勤率 100.00%',
      '职业培训券已结算核销（面值 1,200.00 元）',
      '取得职业技能等级证书：电工（四级），发证机构：武汉市职业技能鉴定指导中心',
    ]);
    expect(nodes[6]).toMatchObject({
      level: 'LEVEL_4',
      passed: true,
      attendanceRateBp: 10_000,
      enrollmentId,
    });
    expect(nodes[1]).toMatchObject({ voucherId, faceValueFen: 120_000, classId });
    expect(nodes[8]!.certificate).toMatchObject({ number: certificateNumber });
    // Someone added to the roster later has that in their archive.
    const late = await eventually(
      async () => (await archiveOf(person(latecomer), latecomer))?.edges[0]?.node,
    );
    expect(late.summary).toBe('追加列入开班名单：电工（四级）培训班（电工（四级），岗位技能提升培训）');
    // The classmate's archive holds only the roster entry.
    expect((await archiveOf(person(classmate), classmate))!.edges.map((e) => e.node.type)).toEqual([
      'TRAINING_PLANNED',
    ]);
  });

  it('pages in time order and filters by type', async () => {
    const page1 = (await archiveOf(person(holder), holder, { first: 4 }))!;
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const page2 = (await archiveOf(person(holder), holder, { first: 10, after: page1.pageInfo.endCursor }))!;
    expect(page2.pageInfo.hasNextPage).toBe(false);
    expect([...page1.edges, ...page2.edges].map((e) => e.node.type)).toEqual(EXPECTED_ORDER);
    const vouchers = (await archiveOf(person(holder), holder, {
      types: ['VOUCHER_ISSUED', 'VOUCHER_USED', 'VOUCHER_SETTLED'],
    }))!;
    expect(vouchers.edges.map((e) => e.node.type)).toEqual([
      'VOUCHER_ISSUED',
      'VOUCHER_USED',
      'VOUCHER_SETTLED',
    ]);
    const bad = await h.gql(person(holder), ARCHIVE, { reps: reps(holder), after: 'bm9wZQ' });
    expect(bad.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('applies redelivered events once', async () => {
    await h.publish(flow);
    // Markers behind the redeliveries, one per topic and key (so on the same partitions): once they
    // are consumed, so are the redeliveries.
    const badImport = contractEvent(
      CertificateImportedSchema,
      TOPICS.careersCertificateImport.name,
      holder,
      '/integrators/osta',
      { personId: 'marker', regionCode: '420102', kind: CertificateKind.TRAINING, number: 'MARKER' },
    );
    await h.publish([
      contractEvent(VoucherIssuedSchema, TOPICS.vouchersVoucher.name, voucherId, '/vtv/vouchers', {
        voucherId: uuidv7(),
        holderPersonId: classmate,
        regionCode: '420102',
        functionMode: FunctionMode.DEDUCTION,
        issuedAt: ts(new Date(Date.now() - 60_000)),
      }),
      contractEvent(AttendanceRecordedSchema, TOPICS.trainingEnrollment.name, classId, '/vtv/training', {
        enrollmentId: uuidv7(),
        classId,
        personId: classmate,
        sessionId: uuidv7(),
        method: CheckInMethod.OPERATOR_SCAN,
        attendanceRateBp: 500,
        checkedInAt: ts(new Date()),
      }),
      badImport,
    ]);
    await eventually(async () => {
      const rejected = await h.query('SELECT 1 FROM certificate_import_rejections WHERE event_id = $1', [
        badImport.id,
      ]);
      const classmateEntries = (await archiveOf(person(classmate), classmate))!.edges.length;
      return rejected.length === 1 && classmateEntries === 3 ? true : undefined;
    });
    const rows = await h.query<{ type: string }>(
      'SELECT type FROM archive_entries WHERE person_id = $1 ORDER BY occurred_at, id',
      [holder],
    );
    expect(rows.map((r) => r.type)).toEqual(EXPECTED_ORDER);
    const certificates = await h.query('SELECT 1 FROM certificates WHERE holder_person_id = $1', [holder]);
    expect(certificates).toHaveLength(1);
  });

  it('shows staff the entries in their region (logged for the holder), and others nothing', async () => {
    const wuhan: Caller = {
      kind: 'staff',
      id: uuidv7(),
      regionCode: '420100',
      permissions: ['careers:read'],
    };
    const henan: Caller = {
      kind: 'staff',
      id: uuidv7(),
      regionCode: '410000',
      permissions: ['careers:read'],
    };
    expect((await archiveOf(wuhan, holder))!.edges).toHaveLength(EXPECTED_ORDER.length);
    expect((await archiveOf(henan, holder))!.edges).toEqual([]);
    for (const caller of [
      person(classmate),
      { kind: 'staff', id: uuidv7(), regionCode: '420100', permissions: ['vouchers:read'] } as Caller,
      { kind: 'client', id: 'client-x', regionCode: '420100', permissions: ['careers:read'] } as Caller,
      { kind: 'anonymous', permissions: [] } as Caller,
    ]) {
      expect(await archiveOf(caller, holder)).toBeNull();
    }
    const log = await h.query<{ actor_id: string; action: string }>(
      `SELECT actor_id, action FROM data_access_log WHERE person_id = $1 AND action = 'ARCHIVE_VIEWED'`,
      [holder],
    );
    expect(log.map((l) => l.actor_id).sort()).toEqual([wuhan.id, henan.id].sort());
  });

  it('exports the archive for the holder as JSON and CSV, and for nobody else', async () => {
    const json = await h.gql(person(holder), EXPORT, { format: 'JSON' });
    expect(json.body.errors).toBeUndefined();
    const exported = json.body.data.exportMyArchive.export;
    expect(exported).toMatchObject({
      format: 'JSON',
      contentType: 'application/json',
      entryCount: EXPECTED_ORDER.length,
    });
    expect(exported.filename).toMatch(/^training-archive-\d{8}\.json$/);
    const document = JSON.parse(exported.content);
    expect(document).toMatchObject({ format: 'vtv.careers.archive/v1', personId: holder });
    expect(document.entries.map((e: { type: string }) => e.type)).toEqual(EXPECTED_ORDER);
    expect(document.certificates).toEqual([
      expect.objectContaining({
        kind: 'SKILL_LEVEL',
        occupation: '电工',
        level: 'LEVEL_4',
        number: certificateNumber,
      }),
    ]);

    const csv = await h.gql(person(holder), EXPORT, { format: 'CSV' });
    const c = csv.body.data.exportMyArchive.export;
    expect(c.contentType).toBe('text/csv; charset=utf-8');
    const lines = (c.content as string)
      .replace(/^\uFEFF/, '')
      .trimEnd()
      .split('\r\n');
    expect(lines[0]).toBe(
      'occurred_at,type,summary,region_code,occupation,training_type,level,face_value_fen,attendance_rate_bp,passed,class_id,institution_id,enrollment_id,voucher_id,certificate_id',
    );
    expect(lines.slice(1).map((l) => l.split(',')[1])).toEqual(EXPECTED_ORDER);

    const staff: Caller = {
      kind: 'staff',
      id: uuidv7(),
      regionCode: '420100',
      permissions: ['careers:read'],
    };
    const refused = await h.gql(staff, EXPORT, { format: 'JSON' });
    expect(refused.body.data.exportMyArchive).toEqual({ export: null, errors: [{ code: 'FORBIDDEN' }] });
    // A person exports only their own: the classmate's export holds one entry.
    const other = await h.gql(person(classmate), EXPORT, { format: 'JSON' });
    expect(
      JSON.parse(other.body.data.exportMyArchive.export.content).entries.map((e: { type: string }) => e.type),
    ).toEqual(['TRAINING_PLANNED', 'VOUCHER_ISSUED', 'ATTENDANCE']);
  });
});
