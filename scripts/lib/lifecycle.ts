/**
 * The whole life of a voucher as ordered steps over the gateway, using only the named operations of
 * schema/operations (looked up by name in manifest.json, exactly what a front end ships). Shared by the
 * end-to-end test (test/lifecycle.e2e.spec.ts) and `npm run smoke` so they cannot drift.
 *
 * Every run creates its own people, institution and class, so it can run again and again against the
 * same stack. It needs the bootstrap administrator (identity's BOOTSTRAP_ADMIN_*; a province that
 * contains Wuhan, 420000) whose ID number it is given: it opens that person's e-SSC if needed and signs
 * in through the console QR flow like a real administrator would.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomInt, randomUUID } from 'node:crypto';
import { syntheticCreditCode, syntheticIdNumber, syntheticName, syntheticPhone } from './synthetic';

export const TRAINING_TYPE = '岗位技能提升培训';
export const OCCUPATION = '电工';
export const WUHAN = '420100';
export const JIANGAN = '420102';
/** The 2021 targets the seed notice (武人社函〔2021〕184号) sets for Wuhan; migrated by vouchers. */
export const WUHAN_QUOTA_2021 = { issuedTarget: 100_000, usedTarget: 10_000 };
/** 武汉 江岸区 — the class's training site. */
const SITE = { latitude: 30.6, longitude: 114.305 };

interface ManifestEntry {
  name: string;
  body: string;
}
let documents: Map<string, string> | undefined;
/** The document of a named operation from schema/operations/manifest.json. */
export function operation(name: string): string {
  if (!documents) {
    const path = join(__dirname, '..', '..', 'schema', 'operations', 'manifest.json');
    const manifest = JSON.parse(readFileSync(path, 'utf8')) as { operations: ManifestEntry[] };
    documents = new Map(manifest.operations.map((o) => [o.name, o.body]));
  }
  const body = documents.get(name);
  if (!body) throw new Error(`no named operation ${name} in schema/operations`);
  return body;
}

type Data = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export class GraphClient {
  constructor(readonly url: string) {}

  /** Runs a named operation; throws on transport or GraphQL errors. */
  async run(name: string, variables: Record<string, unknown> = {}, token?: string | null): Promise<Data> {
    const res = await fetch(this.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'apollo-require-preflight': 'true',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ query: operation(name), operationName: name, variables }),
    });
    const text = await res.text();
    let body: { data?: Data; errors?: { message: string; extensions?: { code?: string } }[] };
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error(`${name}: HTTP ${res.status}: ${text.slice(0, 300)}`);
    }
    if (body.errors?.length)
      throw new Error(
        `${name}: ${body.errors.map((e) => `${e.extensions?.code ?? 'ERROR'} ${e.message}`).join('; ')}`,
      );
    if (!res.ok || !body.data) throw new Error(`${name}: HTTP ${res.status}`);
    return body.data;
  }

  /** Runs a mutation and returns its payload, failing on any UserError. */
  async mutate(name: string, variables: Record<string, unknown>, token?: string | null): Promise<Data> {
    const data = await this.run(name, variables, token);
    const payload = Object.values(data)[0] as Data;
    const errors = (payload?.errors ?? []) as { code: string; message: string; field?: string }[];
    if (errors.length)
      throw new Error(
        `${name}: ${errors.map((e) => `${e.code} ${e.message}${e.field ? ` (${e.field})` : ''}`).join('; ')}`,
      );
    return payload;
  }

  /** Runs a mutation expected to fail; returns its UserError codes. */
  async refused(name: string, variables: Record<string, unknown>, token?: string | null): Promise<string[]> {
    const data = await this.run(name, variables, token);
    const payload = Object.values(data)[0] as Data;
    return ((payload?.errors ?? []) as { code: string }[]).map((e) => e.code);
  }
}

export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  ms = 30_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function check(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(message);
}

export interface Labourer {
  idNumber: string;
  pin: string;
  personId: string;
  token: string;
}

/** Opens an e-SSC (self-service) unless one exists, then signs in with the PIN. */
export async function labourer(
  g: GraphClient,
  o: { idNumber?: string; pin?: string; regionCode?: string; name?: string } = {},
): Promise<Labourer> {
  const regionCode = o.regionCode ?? JIANGAN;
  const idNumber = o.idNumber ?? syntheticIdNumber(regionCode);
  const pin = o.pin ?? '258147';
  const issued = await g.run('IssueCard', {
    input: { name: o.name ?? syntheticName(), idNumber, phone: syntheticPhone(), regionCode, pin },
  });
  const codes = (issued.issueCard.errors as { code: string }[]).map((e) => e.code);
  check(codes.length === 0 || codes.includes('CONFLICT'), `IssueCard: ${codes.join(', ')}`);
  const signed = await g.mutate('SignInPerson', { input: { idNumber, pin } });
  const me = await g.run('Me', {}, signed.accessToken);
  return { idNumber, pin, personId: me.me.id, token: signed.accessToken };
}

/** Console QR sign-in (扫码登录): the console's challenge, confirmed by the staff member's e-SSC app. */
export async function staffSignIn(g: GraphClient, person: Labourer): Promise<string> {
  const challenge = await g.mutate('CreateSignInChallenge', {});
  const confirmed = await g.mutate(
    'ConfirmSignInChallenge',
    { challengeId: challenge.challengeId },
    person.token,
  );
  check(confirmed.confirmed, 'the e-SSC app could not confirm the sign-in challenge');
  const exchanged = await g.mutate('ExchangeSignInChallenge', {
    input: { challengeId: challenge.challengeId, secret: challenge.secret },
  });
  return exchanged.accessToken as string;
}

export interface LifecycleOptions {
  gatewayUrl: string;
  /** The bootstrap administrator's ID number (identity's BOOTSTRAP_ADMIN_ID_NUMBER) and e-SSC PIN. */
  adminIdNumber: string;
  adminPin?: string;
  /** Seconds the class's only session stays open after the run starts (attendance must fit in it). */
  sessionSeconds?: number;
  /** When careers sends SMS to a sink the caller can read: the person ids it has received messages for. */
  smsRecipients?: () => string[];
  /** How long to wait for events to travel (ms). */
  eventTimeoutMs?: number;
}

/** What the steps build up, one after the other. */
export interface LifecycleState {
  g: GraphClient;
  o: LifecycleOptions;
  admin: string;
  reviewer: string;
  operator: Labourer;
  directed: Labourer;
  general: Labourer;
  institutionId: string;
  classId: string;
  sessionId: string;
  sessionEndsAt: number;
  batchId: string;
  templateId: string;
  directedVoucherId: string;
  generalVoucherId: string;
  directedCode: string;
  directedToken: string;
  directedEnrollmentId: string;
  generalEnrollmentId: string;
  applicationId: string;
  certificateNumber: string;
  year: number;
}

export interface LifecycleStep {
  name: string;
  run(s: LifecycleState): Promise<void>;
}

const wait = (s: LifecycleState) => s.o.eventTimeoutMs ?? 30_000;
const today = () => new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10); // China time
const daysFromNow = (d: number) =>
  new Date(Date.now() + 8 * 3600_000 + d * 86_400_000).toISOString().slice(0, 10);

export const LIFECYCLE: LifecycleStep[] = [
  {
    name: 'provincial administrator signs in (e-SSC PIN, then console QR)',
    async run(s) {
      const person = await labourer(s.g, {
        idNumber: s.o.adminIdNumber,
        pin: s.o.adminPin ?? '369258',
        regionCode: WUHAN,
      });
      s.admin = await staffSignIn(s.g, person);
      const me = await s.g.run('CurrentStaffUser', {}, s.admin);
      check(me.currentStaffUser?.id, 'the administrator’s token does not sign in');
    },
  },
  {
    name: 'administrator creates a Wuhan reviewer, who signs in by QR',
    async run(s) {
      const role = await s.g.mutate(
        'CreateRole',
        {
          input: {
            regionCode: WUHAN,
            name: `复审 ${randomUUID().slice(0, 8)}`,
            description: 'second-level review of voucher batches and subsidy applications',
            permissions: ['vouchers:review', 'vouchers:read', 'settlement:review', 'settlement:read'],
          },
        },
        s.admin,
      );
      const person = await labourer(s.g, { regionCode: JIANGAN });
      await s.g.mutate(
        'CreateStaffUser',
        {
          input: {
            regionCode: WUHAN,
            name: syntheticName(),
            idNumber: person.idNumber,
            roleIds: [role.role.id],
          },
        },
        s.admin,
      );
      s.reviewer = await staffSignIn(s.g, person);
    },
  },
  {
    name: 'HRSS configures rules (issuance, face value, review, standard, budget)',
    async run(s) {
      await s.g.mutate(
        'SetVoucherIssuanceRule',
        { input: { regionCode: WUHAN, reviewMode: 'SINGLE', flow: 'MANUAL' } },
        s.admin,
      );
      await s.g.mutate(
        'SetFaceValueRule',
        {
          input: {
            regionCode: WUHAN,
            trainingType: TRAINING_TYPE,
            functionMode: 'FACE_VALUE',
            subsidyAmountFen: 150_000,
          },
        },
        s.admin,
      );
      await s.g.mutate(
        'SetSettlementReviewRule',
        { input: { regionCode: WUHAN, mode: 'TWO_LEVEL' } },
        s.admin,
      );
      await s.g.mutate(
        'SetSubsidyStandard',
        { input: { regionCode: WUHAN, trainingType: TRAINING_TYPE, amountFen: '180000' } },
        s.admin,
      );
      await s.g.mutate(
        'AllocateSubsidyBudget',
        { input: { regionCode: WUHAN, amountFen: '10000000' } },
        s.admin,
      );
      const rules = await s.g.run(
        'VoucherRules',
        { regionCode: JIANGAN, trainingType: TRAINING_TYPE },
        s.admin,
      );
      check(
        rules.voucherFaceValueRule?.subsidyAmountFen === 150_000,
        'Jiang’an does not inherit Wuhan’s face value',
      );
    },
  },
  {
    name: 'bureau registers an institution with its main operator and links it',
    async run(s) {
      s.operator = await labourer(s.g, { regionCode: JIANGAN });
      const reg = await s.g.mutate(
        'RegisterInstitution',
        {
          input: {
            name: `江岸区职业技能培训学校${randomInt(100, 999)}`,
            creditCode: syntheticCreditCode(JIANGAN),
            regionCode: JIANGAN,
            address: '武汉市江岸区解放大道1000号',
            ...SITE,
            mainOperatorPersonId: s.operator.personId,
            mainOperatorPosition: '教务主任',
          },
        },
        s.admin,
      );
      s.institutionId = reg.institution.id;
      await s.g.mutate('SetInstitutionActive', { id: s.institutionId, active: true }, s.admin);
      const mine = await s.g.run('MyOperatorMemberships', {}, s.operator.token);
      check(
        mine.myOperatorMemberships.some((m: Data) => m.institution.id === s.institutionId && m.main),
        'the operator does not see their institution',
      );
    },
  },
  {
    name: 'institution submits a class plan with a roster',
    async run(s) {
      s.directed = await labourer(s.g, { regionCode: JIANGAN });
      const now = Date.now();
      s.sessionEndsAt = now + (s.o.sessionSeconds ?? 40) * 1000;
      const plan = await s.g.mutate(
        'SubmitClassPlan',
        {
          input: {
            institutionId: s.institutionId,
            name: '电工（四级）培训班',
            occupation: OCCUPATION,
            trainingType: TRAINING_TYPE,
            level: '四级',
            headcount: 30,
            startDate: today(),
            endDate: today(),
            courses: [{ name: '低压电工作业', hours: 8 }],
            sessions: [
              {
                startsAt: new Date(now - 10 * 60_000).toISOString(),
                endsAt: new Date(s.sessionEndsAt).toISOString(),
                courseIndex: 0,
              },
            ],
            rosterPersonIds: [s.directed.personId],
          },
        },
        s.operator.token,
      );
      s.classId = plan.trainingClass.id;
      check(plan.trainingClass.state === 'SUBMITTED', `the plan is ${plan.trainingClass.state}`);
    },
  },
  {
    name: 'bureau approves the class (开班审核)',
    async run(s) {
      const queue = await s.g.run('ClassPlansForReview', { first: 100 }, s.admin);
      check(
        queue.classPlansForReview.edges.some((e: Data) => e.node.id === s.classId),
        'the plan is not in the review queue',
      );
      const approved = await s.g.mutate('ApproveClassPlan', { id: s.classId }, s.admin);
      check(approved.trainingClass.state === 'APPROVED', 'the class is not approved');
      const roster = await s.g.run('ClassRoster', { id: s.classId, first: 10 }, s.operator.token);
      s.sessionId = roster.trainingClass.sessions[0].id;
      s.directedEnrollmentId = roster.trainingClass.enrollments.edges.find(
        (e: Data) => e.node.person.id === s.directed.personId,
      ).node.id;
    },
  },
  {
    name: 'directed batch created, reviewed by another person and issued',
    async run(s) {
      await eventually(
        'the class in the awaiting-issuance list (training → vouchers)',
        async () => {
          const d = await s.g.run('ClassesAwaitingIssuance', { first: 100 }, s.admin);
          return d.classesAwaitingIssuance.edges.some((e: Data) => e.node.trainingClass.id === s.classId);
        },
        wait(s),
      );
      const created = await s.g.mutate('CreateVoucherBatch', { input: { classId: s.classId } }, s.admin);
      s.batchId = created.batch.id;
      const submitted = await s.g.mutate('SubmitVoucherBatch', { id: s.batchId }, s.admin);
      check(submitted.batch.state === 'PENDING_REVIEW', `the submitted batch is ${submitted.batch.state}`);
      const approved = await s.g.mutate('ApproveVoucherBatch', { id: s.batchId }, s.reviewer);
      check(approved.batch.state === 'APPROVED', `the reviewed batch is ${approved.batch.state}`);
      const issued = await s.g.mutate('IssueVoucherBatch', { id: s.batchId }, s.admin);
      check(issued.batch.state === 'ISSUED' && issued.batch.issuedCount === 1, 'the batch was not issued');
      const wallet = await s.g.run('MyWallet', {}, s.directed.token);
      const held = wallet.me.voucherWallet.held.find((v: Data) => v.trainingClass?.id === s.classId);
      check(held, 'the directed voucher is not in its holder’s wallet');
      s.directedVoucherId = held.id;
    },
  },
  {
    name: 'a general template is claimed by another person (PIN proof)',
    async run(s) {
      const template = await s.g.mutate(
        'CreateVoucherTemplate',
        {
          input: {
            name: '武汉市电工通用培训券',
            regionCode: WUHAN,
            trainingType: TRAINING_TYPE,
            occupation: OCCUPATION,
            quantity: 100,
            claimEndsAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
            validityType: 'DAYS_AFTER_CLAIM',
            validDays: 90,
          },
        },
        s.admin,
      );
      s.templateId = template.template.id;
      s.general = await labourer(s.g, { regionCode: JIANGAN });
      const centre = await s.g.run('ClaimCenter', { first: 100 }, s.general.token);
      check(
        centre.voucherTemplates.edges.some((e: Data) => e.node.id === s.templateId),
        'the template is not in the claim centre',
      );
      const proof = await s.g.mutate(
        'VerifyIdentity',
        { input: { purpose: 'CLAIM_VOUCHER', subject: s.templateId, pin: s.general.pin } },
        s.general.token,
      );
      const claimed = await s.g.mutate(
        'ClaimVoucher',
        { templateId: s.templateId, proof: proof.proof },
        s.general.token,
      );
      s.generalVoucherId = claimed.voucher.id;
    },
  },
  {
    name: 'holder verifies (PIN) and shows a dynamic QR; the operator scans it',
    async run(s) {
      const proof = await s.g.mutate(
        'VerifyIdentity',
        { input: { purpose: 'USE_VOUCHER', subject: s.directedVoucherId, pin: s.directed.pin } },
        s.directed.token,
      );
      const shown = await s.g.mutate(
        'PresentVoucher',
        { voucherId: s.directedVoucherId, proof: proof.proof },
        s.directed.token,
      );
      s.directedToken = shown.token;
      s.directedCode = shown.code;
      const redeemed = await s.g.mutate(
        'RedeemVoucher',
        {
          input: {
            token: shown.token,
            institutionId: s.institutionId,
            classId: s.classId,
            enrollmentId: s.directedEnrollmentId,
          },
        },
        s.operator.token,
      );
      check(redeemed.voucher.state === 'USED', `the scanned voucher is ${redeemed.voucher.state}`);
    },
  },
  {
    name: 'the general holder enrolls online; the operator checks identity; the voucher is used',
    async run(s) {
      const enrolled = await s.g.mutate('EnrollInClass', { classId: s.classId }, s.general.token);
      s.generalEnrollmentId = enrolled.enrollment.id;
      if (enrolled.enrollment.state === 'PENDING_IDENTITY_CHECK')
        await s.g.mutate(
          'CheckEnrollmentIdentity',
          { enrollmentId: s.generalEnrollmentId, matched: true },
          s.operator.token,
        );
      await eventually(
        'the general voucher used on enrollment (training → vouchers)',
        async () => {
          const v = await s.g.run('Voucher', { id: s.generalVoucherId }, s.general.token);
          return v.voucher?.state === 'USED';
        },
        wait(s),
      );
    },
  },
  {
    name: 'attendance by location and by QR fallback',
    async run(s) {
      const here = await s.g.mutate(
        'CheckIn',
        { input: { sessionId: s.sessionId, latitude: SITE.latitude + 0.001, longitude: SITE.longitude } },
        s.directed.token,
      );
      check(here.attendance.method, 'no location check-in recorded');
      const far = await s.g.refused(
        'CheckIn',
        { input: { sessionId: s.sessionId, latitude: 30.5, longitude: 114.4 } },
        s.general.token,
      );
      check(far.length > 0, 'a check-in 14 km away was accepted');
      const code = await s.g.mutate('IssueClassCheckInCode', { sessionId: s.sessionId }, s.operator.token);
      const byQr = await s.g.mutate('CheckInWithClassCode', { token: code.code.token }, s.general.token);
      check(byQr.attendance.method, 'no QR check-in recorded');
    },
  },
  {
    name: 'completion review after the class: one pass, one fail',
    async run(s) {
      const left = s.sessionEndsAt - Date.now();
      if (left > 0) await new Promise((r) => setTimeout(r, left + 500));
      const reviewed = await s.g.mutate(
        'ReviewCompletion',
        {
          input: {
            classId: s.classId,
            results: [
              { enrollmentId: s.directedEnrollmentId, passed: true },
              { enrollmentId: s.generalEnrollmentId, passed: false, remark: '理论考试未通过' },
            ],
          },
        },
        s.admin,
      );
      check(reviewed.enrollments.length === 2, 'not both results recorded');
      await s.g.mutate(
        'EvaluateInstitution',
        { input: { classId: s.classId, score: 5, comment: '老师讲得清楚' } },
        s.directed.token,
      );
      await s.g.mutate(
        'EvaluateTrainee',
        { input: { enrollmentId: s.directedEnrollmentId, score: 5 } },
        s.operator.token,
      );
    },
  },
  {
    name: 'operator applies for the subsidy with the evidence',
    async run(s) {
      const created = await s.g.mutate(
        'CreateSubsidyApplication',
        {
          input: {
            classId: s.classId,
            lines: [{ personId: s.directed.personId, voucherId: s.directedVoucherId }],
          },
        },
        s.operator.token,
      );
      s.applicationId = created.application.id;
      // Settlement learns of the use and the completion through events; re-file until it has them.
      const filed = await eventually(
        'settlement to hold the evidence (vouchers, training → settlement)',
        async () => {
          const app = await s.g.run('SubsidyApplication', { id: s.applicationId }, s.operator.token);
          if (app.subsidyApplication.state === 'DRAFT') {
            await s.g.mutate('SubmitSubsidyApplication', { id: s.applicationId }, s.operator.token);
            return undefined;
          }
          if (app.subsidyApplication.anomalyCount > 0) {
            await s.g.mutate('ReevaluateSubsidyApplication', { id: s.applicationId }, s.admin);
            return undefined;
          }
          return app.subsidyApplication;
        },
        wait(s),
      );
      check(filed.totalAmountFen === '150000', `the application asks for ${filed.totalAmountFen} fen`);
    },
  },
  {
    name: 'two-level review (初审, 复审 by another person)',
    async run(s) {
      await s.g.mutate(
        'ReviewSubsidyApplication',
        { input: { applicationId: s.applicationId, decision: 'APPROVE' } },
        s.admin,
      );
      const final = await s.g.mutate(
        'ReviewSubsidyApplication',
        { input: { applicationId: s.applicationId, decision: 'APPROVE' } },
        s.reviewer,
      );
      check(final.application.state === 'APPROVED', `the application is ${final.application.state}`);
    },
  },
  {
    name: 'disbursement; the voucher is settled and its codes are dead',
    async run(s) {
      const paid = await s.g.mutate(
        'DisburseSubsidy',
        {
          input: { applicationId: s.applicationId, paymentReference: `TREASURY-${randomUUID().slice(0, 8)}` },
        },
        s.admin,
      );
      check(paid.disbursement, 'no disbursement');
      await eventually(
        'the voucher SETTLED (settlement → vouchers)',
        async () => {
          const v = await s.g.run('Voucher', { id: s.directedVoucherId }, s.directed.token);
          return v.voucher?.state === 'SETTLED';
        },
        wait(s),
      );
      const again = await s.g.refused(
        'RedeemVoucherByCode',
        { input: { code: s.directedCode, institutionId: s.institutionId, classId: s.classId } },
        s.operator.token,
      );
      check(again.length > 0, 'the settled voucher’s code was accepted again');
      const qr = await s.g.refused(
        'RedeemVoucher',
        { input: { token: s.directedToken, institutionId: s.institutionId, classId: s.classId } },
        s.operator.token,
      );
      check(qr.length > 0, 'the settled voucher’s QR was accepted again');
    },
  },
  {
    name: 'integrator imports the certificate; the holder sees it',
    async run(s) {
      const client = await s.g.mutate(
        'CreateClient',
        {
          input: {
            name: `鉴定中心 ${randomUUID().slice(0, 8)}`,
            regionCode: WUHAN,
            permissions: ['careers:certificates:import'],
          },
        },
        s.admin,
      );
      const signed = await s.g.mutate('SignInClient', {
        input: { clientId: client.client.id, clientSecret: client.clientSecret },
      });
      s.certificateNumber = `S${Date.now()}${randomInt(1000, 9999)}`;
      await s.g.mutate(
        'ImportCertificate',
        {
          input: {
            holderId: s.directed.personId,
            regionCode: WUHAN,
            kind: 'SKILL_LEVEL',
            occupation: OCCUPATION,
            level: 'LEVEL_4',
            issuer: '武汉市职业技能鉴定指导中心',
            number: s.certificateNumber,
            issuedOn: today(),
          },
        },
        signed.accessToken,
      );
      const mine = await s.g.run('MyCertificates', {}, s.directed.token);
      check(
        mine.me.certificates.some((c: Data) => c.number === s.certificateNumber),
        'the holder does not see the certificate',
      );
    },
  },
  {
    name: 'the lifelong archive holds voucher, attendance, completion and certificate',
    async run(s) {
      await eventually(
        'the archive entries (vouchers, training, careers → careers)',
        async () => {
          const a = await s.g.run('MyArchive', { first: 100 }, s.directed.token);
          const types = new Set(a.me.archive.edges.map((e: Data) => e.node.type as string));
          return ['VOUCHER_ISSUED', 'ATTENDANCE', 'COMPLETION_PASSED', 'CERTIFICATE'].every((t) =>
            types.has(t),
          );
        },
        wait(s),
      );
      const exported = await s.g.mutate('ExportMyArchive', { format: 'JSON' }, s.directed.token);
      check(exported.export.content.length > 0, 'the archive export is empty');
    },
  },
  {
    name: 'consented job recommendation, in the inbox and by SMS',
    async run(s) {
      await s.g.mutate(
        'PublishJobPosting',
        {
          input: {
            title: '维修电工',
            employer: '武汉某某设备有限公司',
            occupation: OCCUPATION,
            regionCode: WUHAN,
            payMinFen: 600_000,
            payMaxFen: 900_000,
            validUntil: daysFromNow(30),
          },
        },
        s.admin,
      );
      await s.g.mutate(
        'GrantConsent',
        {
          input: {
            purpose: 'JOB_RECOMMENDATION',
            recipient: 'CAREERS_JOB_SERVICE',
            channels: ['IN_APP', 'SMS'],
            validUntil: daysFromNow(90),
          },
        },
        s.directed.token,
      );
      await eventually(
        'a recommendation for the certificate holder',
        async () => {
          const r = await s.g.run('MyRecommendations', { first: 10 }, s.directed.token);
          return r.me.recommendations.edges.length > 0;
        },
        wait(s),
      );
      const inbox = await s.g.run('MyInbox', { first: 10 }, s.directed.token);
      check(inbox.me.inbox.edges.length > 0, 'no inbox message');
      const sms = s.o.smsRecipients;
      if (sms)
        await eventually('the SMS at the gateway', async () => sms().includes(s.directed.personId), wait(s));
      const none = await s.g.run('MyRecommendations', { first: 10 }, s.general.token);
      check(none.me.recommendations.edges.length === 0, 'a person without consent got recommendations');
    },
  },
  {
    name: 'statistics against the seed quotas',
    async run(s) {
      const seeded = await s.g.run('VoucherStatistics', { regionCode: WUHAN, year: 2021 }, s.admin);
      check(
        seeded.voucherStatistics?.quota?.issuedTarget === WUHAN_QUOTA_2021.issuedTarget &&
          seeded.voucherStatistics.quota.usedTarget === WUHAN_QUOTA_2021.usedTarget,
        `Wuhan's 2021 quota is ${JSON.stringify(seeded.voucherStatistics?.quota)}`,
      );
      s.year = new Date().getFullYear();
      const now = await s.g.run('VoucherStatistics', { regionCode: WUHAN, year: s.year }, s.admin);
      const c = now.voucherStatistics.counts;
      check(c.issued >= 1 && c.claimed >= 1 && c.settled >= 1, `this year's counts are ${JSON.stringify(c)}`);
      const audit = await s.g.run('AuditLog', { first: 20 }, s.admin);
      check(audit.auditLog.edges.length > 0, 'the audit log is empty');
    },
  },
];

export async function runLifecycle(
  o: LifecycleOptions,
  progress: (line: string) => void = () => undefined,
): Promise<LifecycleState> {
  const s = { g: new GraphClient(o.gatewayUrl), o } as LifecycleState;
  for (const [i, step] of LIFECYCLE.entries()) {
    const started = Date.now();
    try {
      await step.run(s);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new Error(`step ${i + 1}/${LIFECYCLE.length} “${step.name}” failed: ${message}`);
    }
    progress(`✓ ${String(i + 1).padStart(2)}/${LIFECYCLE.length} ${step.name} (${Date.now() - started} ms)`);
  }
  return s;
}
