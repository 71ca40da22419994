import { DomainError, ErrorCode, inRegion, notFound, type Caller, type EntityManager } from '@vtv/kit';
import type { EnrollmentRow, InstitutionRow, UseChannel, VoucherRow } from '../data/entities';
import { codeDigest, deriveCode, formatCode, normalizeCode } from '../domain/codes';
import { VoucherError } from '../errors';
import { requirePerson, type Actor } from './access';
import { keyed, refuseUnlessStored, type Deps } from './context';
import { optionalText, optionalUuid, uuid } from './input';
import { Lifecycle } from './lifecycle';
import { verifyProof } from './proofs';

export interface RedeemInput {
  token: string;
  institutionId: string;
  classId?: string | null;
  enrollmentId?: string | null;
}

export interface RedeemByCodeInput {
  code: string;
  institutionId: string;
  classId?: string | null;
  enrollmentId?: string | null;
  /** The scanning device (扫码枪 / app install); throttling counts per device as well as per operator. */
  deviceId?: string | null;
}

export interface Presentation {
  token: string;
  expiresAt: Date;
  /** The code (券码) for manual entry when a scan fails, shown with the QR to its holder only. */
  code: string;
  voucher: VoucherRow;
}

interface UseRequest {
  voucherId: string;
  /** The holder the token was bound to (QR) or the signed-in holder (online); null for a typed code. */
  holderId: string | null;
  jti: string | null;
  institutionId: string;
  classId: string | null;
  enrollmentId: string | null;
  channel: UseChannel;
  actor: Actor;
  /** The institution's projection, as read when the request was checked. */
  institution: InstitutionRow;
}

const CODE_WINDOW_MS = 15 * 60_000;
const PRESENT_LIMIT = 30;

/**
 * 用券 (Art. 17–22; labourer guide 使用培训券): the holder verifies their identity and gets a dynamic QR
 * token; an enabled operator of an active institution scans it and the voucher becomes USED, bound to the
 * institution (and class / enrollment). Also: manual code entry (throttled), online deduction by the
 * holder, and automatic use when training reports an enrollment.
 *
 * A token is accepted once: Redis SET NX on its id turns replays away fast; the id's row in
 * redeemed_tokens, inserted in the redeeming transaction, is the final word (it holds after Redis lost
 * its keys). The conditional state change makes a second use of the voucher impossible, whatever token.
 */
export class RedemptionService {
  constructor(
    private readonly deps: Deps,
    private readonly lifecycle: Lifecycle,
  ) {}

  private get repos() {
    return this.deps.repos;
  }

  /** 去使用: identity verified for this voucher → a fresh token (about a minute) and the code. */
  async present(caller: Caller, voucherIdInput: string, proof: string): Promise<Presentation> {
    const personId = requirePerson(caller);
    const voucherId = uuid('voucherId', voucherIdInput);
    await verifyProof(this.deps, proof, { personId, purpose: 'USE_VOUCHER', subject: voucherId });
    const n = await this.deps.cache.incrBy(`present:${personId}`, 1, 60_000).catch(() => 0);
    if (n > PRESENT_LIMIT)
      throw new DomainError(
        ErrorCode.RATE_LIMITED,
        'Too many QR codes requested; wait a minute',
        undefined,
        true,
      );
    const v = await this.repos.vouchers.byId(voucherId);
    if (!v || v.holderPersonId !== personId) throw notFound('Voucher');
    const now = this.deps.now();
    if (
      v.state !== 'HELD' ||
      v.validUntil.getTime() <= now.getTime() ||
      v.validFrom.getTime() > now.getTime()
    )
      throw Lifecycle.unusable(v, now);
    const t = this.deps.qr.issue(v.id, personId, now);
    return {
      token: t.token,
      expiresAt: t.expiresAt,
      code: formatCode(deriveCode(this.deps.codeKey, v.id)),
      voucher: v,
    };
  }

  /** 扫码核验 by an operator of the institution. Returns the used voucher's id. */
  async redeem(caller: Caller, input: RedeemInput, key?: string): Promise<string> {
    const operatorId = requirePerson(caller);
    const institutionId = uuid('institutionId', input.institutionId);
    const classId = optionalUuid('classId', input.classId);
    const enrollmentId = optionalUuid('enrollmentId', input.enrollmentId);
    const now = this.deps.now();
    const claims = this.deps.qr.verify(input.token, now);
    const institution = await this.requireOperator(operatorId, institutionId);
    const idem = {
      caller,
      key,
      operation: 'redeemVoucher',
      input: { jti: claims.jti, institutionId, classId, enrollmentId },
    };
    let fresh = true;
    try {
      const ttl = claims.expiresAt.getTime() - now.getTime() + 60_000;
      fresh = await this.deps.cache.setIfAbsent(`qr:${claims.jti}`, '1', ttl);
    } catch (err) {
      this.deps.logger.warn({ err }, 'replay cache unavailable; the database decides');
    }
    if (!fresh) return refuseUnlessStored(this.deps, idem, replayed());
    return keyed(this.deps, idem, (m) =>
      this.use(m, {
        voucherId: claims.voucherId,
        holderId: claims.holderId,
        jti: claims.jti,
        institutionId,
        classId,
        enrollmentId,
        channel: 'QR',
        actor: { kind: 'OPERATOR', id: operatorId },
        institution,
      }),
    );
  }

  /** 券码录入: the code typed by an operator when a scan fails. Failed entries are throttled. */
  async redeemByCode(caller: Caller, input: RedeemByCodeInput, key?: string): Promise<string> {
    const operatorId = requirePerson(caller);
    const institutionId = uuid('institutionId', input.institutionId);
    const classId = optionalUuid('classId', input.classId);
    const enrollmentId = optionalUuid('enrollmentId', input.enrollmentId);
    const device = optionalText('deviceId', input.deviceId, 64) ?? `operator:${operatorId}`;
    const institution = await this.requireOperator(operatorId, institutionId);
    const counters = [`codefail:op:${operatorId}`, `codefail:dev:${device}`];
    const limit = this.deps.config.VOUCHER_CODE_ENTRY_FAILURES;
    const counts = await Promise.all(counters.map((c) => this.deps.cache.get(c).catch(() => null)));
    if (counts.some((c) => Number(c ?? 0) >= limit))
      throw new DomainError(
        ErrorCode.RATE_LIMITED,
        'Too many wrong codes; try again in 15 minutes',
        'code',
        true,
      );
    const fail = async () => {
      await Promise.all(counters.map((c) => this.deps.cache.incrBy(c, 1, CODE_WINDOW_MS).catch(() => 0)));
      return new DomainError(VoucherError.VOUCHER_CODE_INVALID, 'No valid voucher has this code', 'code');
    };
    const code = normalizeCode(input.code);
    if (!code) throw await fail();
    const v = await this.repos.vouchers.byCodeDigest(codeDigest(code));
    if (!v) throw await fail();
    return keyed(
      this.deps,
      {
        caller,
        key,
        operation: 'redeemVoucherByCode',
        input: { voucherId: v.id, institutionId, classId, enrollmentId },
      },
      (m) =>
        this.use(m, {
          voucherId: v.id,
          holderId: null,
          jti: null,
          institutionId,
          classId,
          enrollmentId,
          channel: 'CODE',
          actor: { kind: 'OPERATOR', id: operatorId },
          institution,
        }),
    );
  }

  /** 线上扣减: for an online course, the holder's identity verification deducts the voucher directly. */
  async useOnline(
    caller: Caller,
    input: { voucherId: string; classId: string; proof: string },
    key?: string,
  ): Promise<string> {
    const personId = requirePerson(caller);
    const voucherId = uuid('voucherId', input.voucherId);
    const classId = uuid('classId', input.classId);
    await verifyProof(this.deps, input.proof, { personId, purpose: 'USE_VOUCHER', subject: voucherId });
    const cls = await this.repos.classes.byId(classId);
    if (!cls) throw new DomainError(ErrorCode.NOT_FOUND, 'Class not found', 'classId');
    const v = await this.repos.vouchers.byId(voucherId);
    if (!v || v.holderPersonId !== personId) throw notFound('Voucher');
    const inst = await this.repos.projections.institution(cls.institutionId);
    if (!inst?.active)
      throw new DomainError(
        VoucherError.INSTITUTION_NOT_ACTIVE,
        'The institution is not activated for vouchers',
      );
    return keyed(
      this.deps,
      { caller, key, operation: 'useVoucherOnline', input: { voucherId, classId } },
      (m) =>
        this.use(m, {
          voucherId,
          holderId: personId,
          jti: null,
          institutionId: cls.institutionId,
          classId,
          enrollmentId: null,
          channel: 'ONLINE',
          actor: { kind: 'PERSON', id: personId },
          institution: inst,
        }),
    );
  }

  /**
   * EnrollmentCreated (报名): when the person holds a matching voucher — one directed to this class,
   * else a general one of the class's training type issued for a region containing it — it is used.
   */
  async onEnrollment(m: EntityManager, e: EnrollmentRow): Promise<void> {
    await this.repos.projections.insertEnrollment(m, e);
    const inst = await this.repos.projections.institution(e.institutionId, m);
    if (!inst?.active) return;
    if (await this.repos.vouchers.usedForClass(m, e.personId, e.classId)) return;
    const now = this.deps.now();
    const id = await this.repos.vouchers.autoUseCandidate(m, e, now);
    if (!id) return;
    await this.lifecycle.apply(
      m,
      { ids: [id], validAt: now },
      {
        to: 'USED',
        actor: { kind: 'SYSTEM', id: 'training' },
        reason: 'used automatically on enrollment (报名自动用券)',
        at: now,
        use: {
          institutionId: e.institutionId,
          classId: e.classId,
          enrollmentId: e.enrollmentId,
          by: 'training',
          channel: 'ENROLLMENT',
        },
      },
    );
  }

  private async requireOperator(personId: string, institutionId: string): Promise<InstitutionRow> {
    const { operatorEnabled, institution: inst } = await this.repos.projections.scanFacts(
      institutionId,
      personId,
    );
    if (!operatorEnabled)
      throw new DomainError(
        VoucherError.NOT_AN_OPERATOR,
        'You are not an enabled operator (经办人) of this institution',
        'institutionId',
      );
    if (!inst?.active)
      throw new DomainError(
        VoucherError.INSTITUTION_NOT_ACTIVE,
        'The institution is not activated for vouchers (关联部端)',
        'institutionId',
      );
    return inst;
  }

  /** The shared use path, inside the caller's transaction. */
  private async use(m: EntityManager, r: UseRequest): Promise<string> {
    const now = this.deps.now();
    let v: VoucherRow | null;
    if (r.jti) {
      const read = await this.repos.vouchers.recordTokenAndRead(m, r.jti, r.voucherId, now);
      if (!read.fresh) throw replayed();
      v = read.voucher;
    } else {
      v = await this.repos.vouchers.byId(r.voucherId, m);
    }
    if (!v) throw notFound('Voucher');
    if (
      v.state !== 'HELD' ||
      v.validUntil.getTime() <= now.getTime() ||
      v.validFrom.getTime() > now.getTime()
    )
      throw Lifecycle.unusable(v, now);
    if (r.holderId && v.holderPersonId !== r.holderId)
      throw new DomainError(
        VoucherError.VOUCHER_NOT_HOLDERS,
        'This voucher is not held by the person presenting it',
      );
    let classId = r.classId;
    if (r.enrollmentId) {
      const e = await this.repos.projections.enrollment(r.enrollmentId);
      if (e) {
        if (e.personId !== v.holderPersonId)
          throw new DomainError(
            VoucherError.VOUCHER_NOT_HOLDERS,
            'The enrolled person is not the voucher’s holder',
          );
        if (e.institutionId !== r.institutionId)
          throw new DomainError(VoucherError.WRONG_INSTITUTION, 'The enrollment is at another institution');
        classId ??= e.classId;
      }
    }
    await this.requireApplicable(m, v, r.institution, classId);
    const used = await this.lifecycle.apply(
      m,
      { ids: [v.id], validAt: now },
      {
        to: 'USED',
        actor: r.actor,
        reason: USE_REASON[r.channel],
        at: now,
        use: {
          institutionId: r.institutionId,
          classId,
          enrollmentId: r.enrollmentId,
          by: r.actor.id,
          channel: r.channel,
        },
      },
    );
    if (used.length === 0) {
      // Someone else changed it first (the concurrent second scan): say what it is now.
      const current = await this.repos.vouchers.byId(v.id, m);
      throw Lifecycle.unusable(current ?? v, now);
    }
    return v.id;
  }

  /** A directed voucher only at its class's institution; a general one at institutions inside its region. */
  private async requireApplicable(
    m: EntityManager,
    v: VoucherRow,
    inst: InstitutionRow,
    classId: string | null,
  ): Promise<void> {
    const institutionId = inst.institutionId;
    const wrong = () =>
      new DomainError(VoucherError.WRONG_INSTITUTION, 'This voucher cannot be used at this institution');
    const notApplicable = (why: string) => new DomainError(VoucherError.VOUCHER_NOT_APPLICABLE, why);
    if (v.kind === 'DIRECTED') {
      if (v.institutionId !== institutionId) throw wrong();
      if (classId && v.classId && classId !== v.classId)
        throw notApplicable('This voucher was issued for another class');
    } else {
      if (!inRegion(v.regionCode, inst.regionCode)) throw wrong();
      if (classId) {
        const cls = await this.repos.classes.byId(classId, m);
        if (cls && cls.institutionId !== institutionId) throw wrong();
        if (cls && cls.trainingType !== v.trainingType)
          throw notApplicable(`This voucher is for ${v.trainingType}, not ${cls.trainingType}`);
        if (cls && v.occupation && cls.occupation !== v.occupation)
          throw notApplicable(`This voucher is for the occupation ${v.occupation}`);
      }
    }
    if (classId && (await this.repos.vouchers.usedForClass(m, v.holderPersonId, classId)))
      throw notApplicable('The holder already used a voucher for this class');
  }
}

const USE_REASON: Record<UseChannel, string> = {
  QR: 'scanned at the institution (扫码核验)',
  CODE: 'code entered at the institution (券码核验)',
  ONLINE: 'deducted online (线上扣减)',
  ENROLLMENT: 'used automatically on enrollment (报名自动用券)',
};

function replayed(): DomainError {
  return new DomainError(
    VoucherError.QR_TOKEN_REPLAYED,
    'This QR code was already scanned; ask the holder to refresh it',
    'token',
  );
}
