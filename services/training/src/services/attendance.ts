import { enqueue } from '@vtv/events';
import {
  DomainError,
  ErrorCode,
  isUuid,
  notFound,
  parsePage,
  toConnection,
  uuidv7,
  type Caller,
  type PageArgs,
} from '@vtv/kit';
import {
  AttendanceRow,
  type CheckInMethodName,
  type ClassRow,
  type EnrollmentRow,
  type InstitutionRow,
  type SessionRow,
} from '../data/entities';
import { isUniqueViolation } from '../data/repositories';
import { trainingError } from '../errors';
import { readableRegionPrefix, requirePerson, type Access, type Deps } from './context';
import { attendanceRateBp, trainingEvents } from './events';
import { distanceBucket, haversineMetres, type Point } from './geo';
import { requireCoordinates, requireUuid } from './input';
import type { QrSigner } from './qr';

export interface LocationCheckIn {
  sessionId: string;
  latitude: number;
  longitude: number;
}

interface SessionContext {
  session: SessionRow;
  cls: ClassRow;
  institution: InstitutionRow;
}

const EMPTY = { edges: [], pageInfo: { hasNextPage: false, endCursor: null } };
const MINUTE = 60_000;

/** A Chinese-time rendering for messages (HH:mm on the session's day). */
const hhmm = (d: Date) =>
  new Intl.DateTimeFormat('zh-CN', {
    timeZone: 'Asia/Shanghai',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  }).format(d);

/**
 * 考勤 (Art. 23; seed 000 §3.1.4): location check-in within CHECKIN_RADIUS_M of the class location during
 * a session's window; otherwise QR check-in assisted by the institution, either a rotating class code the
 * trainee scans or the trainee's own code an operator scans. One check-in per person per session (a
 * unique index). Only the outcome, method and a distance bucket are kept, never a position. A refused
 * check-in stores nothing.
 */
export class AttendanceService {
  constructor(
    private readonly deps: Deps,
    private readonly access: Access,
    private readonly qr: QrSigner,
  ) {}

  private get repos() {
    return this.deps.repos;
  }

  async session(id: string): Promise<SessionRow | null> {
    return isUuid(id) ? this.repos.classes.sessionById(id) : null;
  }

  byEnrollment(enrollmentId: string): Promise<AttendanceRow[]> {
    return this.repos.attendance.byEnrollment(enrollmentId);
  }

  /** A person's check-ins: all for the person themself, those in their region for staff, none for others. */
  async pageForPerson(caller: Caller, personId: string, args: PageArgs) {
    const { limit, afterKey } = parsePage(args);
    if (!isUuid(personId)) return EMPTY;
    let prefix: string | null = null;
    if (!(caller.kind === 'person' && caller.id === personId)) {
      prefix = readableRegionPrefix(caller);
      if (!prefix) return EMPTY;
    }
    const rows = await this.repos.attendance.pageByPerson(personId, prefix, { limit, after: afterKey });
    return toConnection(rows, limit, (a) => a.id);
  }

  private async context(sessionId: string): Promise<SessionContext> {
    const session = await this.repos.classes.sessionById(sessionId);
    if (!session) throw notFound('Session');
    const cls = (await this.repos.classes.byId(session.classId))!;
    if (cls.state !== 'APPROVED') throw notFound('Session');
    const institution = (await this.repos.institutions.byId(cls.institutionId))!;
    return { session, cls, institution };
  }

  private async activeEnrollment(cls: ClassRow, personId: string): Promise<EnrollmentRow> {
    const e = await this.repos.enrollments.of(cls.id, personId);
    if (!e || e.state === 'REFUSED' || e.state === 'WITHDRAWN')
      throw trainingError('NOT_ENROLLED', 'Not enrolled in this class');
    if (e.state === 'PENDING_IDENTITY_CHECK')
      throw trainingError(
        'IDENTITY_CHECK_PENDING',
        'The institution has not yet checked the enrollee’s identity (Art. 21)',
      );
    return e;
  }

  /** Throws CHECKIN_OUTSIDE_WINDOW unless `now` lies in the session's check-in window; tells whether it is late. */
  private window(session: SessionRow, now: Date): { late: boolean } {
    const opens = new Date(session.startsAt.getTime() - this.deps.config.CHECKIN_OPENS_BEFORE_MIN * MINUTE);
    if (now < opens || now > session.endsAt) {
      throw trainingError(
        'CHECKIN_OUTSIDE_WINDOW',
        `Check-in for this session is open from ${hhmm(opens)} to ${hhmm(session.endsAt)} (China time)`,
        'sessionId',
      );
    }
    return {
      late: now.getTime() > session.startsAt.getTime() + this.deps.config.CHECKIN_LATE_AFTER_MIN * MINUTE,
    };
  }

  /** The class's own location, or the institution's when the plan named none. */
  static locationOf(cls: ClassRow, institution: InstitutionRow): Point {
    return cls.locationLatitude != null && cls.locationLongitude != null
      ? { latitude: cls.locationLatitude, longitude: cls.locationLongitude }
      : { latitude: institution.latitude, longitude: institution.longitude };
  }

  async checkInByLocation(caller: Caller, input: LocationCheckIn): Promise<AttendanceRow> {
    const personId = requirePerson(caller);
    requireCoordinates(input.latitude, input.longitude);
    const ctx = await this.context(requireUuid('sessionId', input.sessionId));
    const enrollment = await this.activeEnrollment(ctx.cls, personId);
    if (ctx.cls.online) {
      throw trainingError(
        'CHECKIN_METHOD_NOT_ALLOWED',
        'An online class has no location; check in with the class QR code',
        'sessionId',
      );
    }
    const now = this.deps.clock.now();
    const { late } = this.window(ctx.session, now);
    const metres = haversineMetres(AttendanceService.locationOf(ctx.cls, ctx.institution), input);
    const radius = this.deps.config.CHECKIN_RADIUS_M;
    if (metres > radius) {
      const bucket = distanceBucket(metres);
      throw trainingError(
        'CHECKIN_OUT_OF_RANGE',
        `You are ${bucket ? `up to ${bucket} m` : 'more than 5 km'} from the class location; check-in is accepted within ${radius} m. Ask the institution for a QR check-in.`,
        'latitude',
      );
    }
    return this.record(ctx, enrollment, 'LOCATION', distanceBucket(metres), now, late, null);
  }

  /** The rotating class code (扫码签到) an operator's screen shows for a session in its window. */
  async issueClassQr(caller: Caller, sessionIdInput: string): Promise<{ token: string; expiresAt: Date }> {
    const ctx = await this.context(requireUuid('sessionId', sessionIdInput));
    await this.access.requireOperator(caller, ctx.cls.institutionId);
    const now = this.deps.clock.now();
    this.window(ctx.session, now);
    return this.qr.issue('class', ctx.session.id, now);
  }

  async checkInWithClassQr(caller: Caller, token: string): Promise<AttendanceRow> {
    const personId = requirePerson(caller);
    const now = this.deps.clock.now();
    const claims = this.qr.verify(token, 'class', now);
    const ctx = await this.context(claims.sessionId);
    const enrollment = await this.activeEnrollment(ctx.cls, personId);
    const { late } = this.window(ctx.session, now);
    return this.record(ctx, enrollment, 'CLASS_QR', null, now, late, null);
  }

  /** The trainee's own short-lived code for a session, for an operator to scan. */
  async issueTraineeQr(caller: Caller, sessionIdInput: string): Promise<{ token: string; expiresAt: Date }> {
    const personId = requirePerson(caller);
    const ctx = await this.context(requireUuid('sessionId', sessionIdInput));
    await this.activeEnrollment(ctx.cls, personId);
    const now = this.deps.clock.now();
    this.window(ctx.session, now);
    return this.qr.issue('trainee', ctx.session.id, now, personId);
  }

  async checkInByOperatorScan(caller: Caller, token: string): Promise<AttendanceRow> {
    requirePerson(caller);
    const now = this.deps.clock.now();
    const claims = this.qr.verify(token, 'trainee', now);
    if (!claims.personId || !isUuid(claims.personId))
      throw trainingError('QR_INVALID', 'This is not a trainee check-in code', 'token');
    const ctx = await this.context(claims.sessionId);
    const operator = await this.access.operatorOf(caller, ctx.cls.institutionId);
    if (!operator) {
      throw new DomainError(
        ErrorCode.FORBIDDEN,
        'Only an operator (经办人) of the class’s institution can record this check-in',
        'token',
      );
    }
    const enrollment = await this.activeEnrollment(ctx.cls, claims.personId);
    const { late } = this.window(ctx.session, now);
    return this.record(ctx, enrollment, 'OPERATOR_SCAN', null, now, late, operator.personId);
  }

  private async record(
    ctx: SessionContext,
    enrollment: EnrollmentRow,
    method: CheckInMethodName,
    bucket: number | null,
    now: Date,
    late: boolean,
    recordedBy: string | null,
  ): Promise<AttendanceRow> {
    const already = () =>
      trainingError('ALREADY_CHECKED_IN', 'Already checked in to this session', 'sessionId');
    if (await this.repos.attendance.of(ctx.session.id, enrollment.personId)) throw already();
    const row = Object.assign(new AttendanceRow(), {
      id: uuidv7(),
      enrollmentId: enrollment.id,
      classId: ctx.cls.id,
      sessionId: ctx.session.id,
      personId: enrollment.personId,
      method,
      outcome: late ? ('LATE' as const) : ('ON_TIME' as const),
      distanceBucketM: method === 'LOCATION' ? bucket : null,
      checkedInAt: now,
      recordedBy,
    });
    try {
      return await this.deps.ds.transaction(async (m) => {
        await this.repos.attendance.insert(m, row);
        const attended = await this.repos.enrollments.countAttendance(m, enrollment.id);
        await enqueue(m, [
          trainingEvents.attendanceRecorded(row, ctx.cls, attendanceRateBp(attended, ctx.cls.sessionCount)),
        ]);
        return row;
      });
    } catch (err) {
      if (isUniqueViolation(err, 'attendance_once')) throw already();
      throw err;
    }
  }
}
