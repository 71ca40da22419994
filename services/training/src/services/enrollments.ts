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
import { EnrollmentRow } from '../data/entities';
import { isUniqueViolation } from '../data/repositories';
import { trainingError } from '../errors';
import { STAFF_READ_PERMISSIONS } from '../permissions';
import { classEnded } from './class-plans';
import { audit, readableRegionPrefix, requirePerson, staffIn, type Access, type Deps } from './context';
import { trainingEvents } from './events';
import { requireUuid } from './input';

const EMPTY = { edges: [], pageInfo: { hasNextPage: false, endCursor: null } };

/**
 * 报名: a labourer enrolls online in an approved class, which publishes EnrollmentCreated (vouchers uses a
 * matching held voucher automatically). Art. 21: the enrollment takes effect once an operator of the
 * institution confirms the enrollee's identity matches; who checked and when is recorded.
 */
export class EnrollmentService {
  constructor(
    private readonly deps: Deps,
    private readonly access: Access,
  ) {}

  private get repos() {
    return this.deps.repos;
  }

  /** The person themself, operators of the institution, staff reading in the class's region. */
  async visible(caller: Caller, e: EnrollmentRow): Promise<boolean> {
    if (caller.kind === 'person' && caller.id === e.personId) return true;
    if (staffIn(caller, e.regionCode, STAFF_READ_PERMISSIONS)) return true;
    return (await this.access.operatorOf(caller, e.institutionId)) !== null;
  }

  /** Loads an enrollment for a field of something the caller may already see (no further check). */
  load(id: string): Promise<EnrollmentRow | null> {
    return this.repos.enrollments.byId(id);
  }

  async get(caller: Caller, id: string): Promise<EnrollmentRow | null> {
    if (!isUuid(id)) return null;
    const row = await this.repos.enrollments.byId(id);
    return row && (await this.visible(caller, row)) ? row : null;
  }

  /** A person's enrollments: all for the person themself, those in their region for staff, none for others. */
  async pageForPerson(caller: Caller, personId: string, args: PageArgs) {
    const { limit, afterKey } = parsePage(args);
    if (!isUuid(personId)) return EMPTY;
    let regionPrefix: string | undefined;
    if (!(caller.kind === 'person' && caller.id === personId)) {
      const prefix = readableRegionPrefix(caller);
      if (!prefix) return EMPTY;
      regionPrefix = prefix;
    }
    const rows = await this.repos.enrollments.page({ personId, regionPrefix }, { limit, after: afterKey });
    return toConnection(rows, limit, (e) => e.id);
  }

  /** Enrollments of a class or an institution (Art. 15); the caller's right to see them is checked by the caller. */
  async page(where: { classId?: string; institutionId?: string }, args: PageArgs) {
    const { limit, afterKey } = parsePage(args);
    const rows = await this.repos.enrollments.page(where, { limit, after: afterKey });
    return toConnection(rows, limit, (e) => e.id);
  }

  async enroll(caller: Caller, classIdInput: string): Promise<EnrollmentRow> {
    const personId = requirePerson(caller);
    const classId = requireUuid('classId', classIdInput);
    try {
      return await this.deps.ds.transaction(async (m) => {
        // The class row lock serialises enrollments, so the headcount holds under a rush.
        const c = await this.repos.classes.lockById(m, classId);
        if (
          !c ||
          c.state === 'REJECTED' ||
          (c.state === 'SUBMITTED' && !(await this.access.operatorOf(caller, c.institutionId)))
        )
          throw notFound('Class');
        if (c.state !== 'APPROVED') throw trainingError('ENROLLMENT_CLOSED', 'The class is not approved yet');
        const now = this.deps.clock.now();
        if (classEnded(c, await this.repos.classes.sessionsOf(c.id, m), now)) {
          throw trainingError('ENROLLMENT_CLOSED', 'The class has ended');
        }
        if (await this.repos.enrollments.of(c.id, personId, m)) {
          throw trainingError('ALREADY_ENROLLED', 'You are already enrolled in this class');
        }
        if (c.enrolledCount >= c.headcount) throw trainingError('CLASS_FULL', 'The class is full');
        const row = Object.assign(new EnrollmentRow(), {
          id: uuidv7(),
          classId: c.id,
          institutionId: c.institutionId,
          regionCode: c.regionCode,
          personId,
          source: 'ONLINE' as const,
          state: 'PENDING_IDENTITY_CHECK' as const,
          enrolledAt: now,
          identityCheckedAt: null,
          identityCheckedBy: null,
          attendedSessions: 0,
          completionPassed: null,
          completionReviewedBy: null,
          completionReviewedAt: null,
          completionRemark: null,
          updatedAt: now,
        });
        await this.repos.enrollments.insert(m, [row]);
        await this.repos.classes.addCounts(m, c.id, 1, 0);
        await enqueue(m, [trainingEvents.enrollmentCreated(row, c)]);
        return row;
      });
    } catch (err) {
      if (isUniqueViolation(err, 'enrollments_class_id_person_id_key'))
        throw trainingError('ALREADY_ENROLLED', 'You are already enrolled in this class');
      throw err;
    }
  }

  /**
   * Art. 21: an operator of the institution checks the enrollee in person. A match makes the enrollment
   * active; a mismatch refuses it and frees the place.
   */
  async checkIdentity(caller: Caller, enrollmentIdInput: string, matched: boolean): Promise<EnrollmentRow> {
    const enrollmentId = requireUuid('enrollmentId', enrollmentIdInput);
    const existing = await this.repos.enrollments.byId(enrollmentId);
    if (!existing) throw notFound('Enrollment');
    const operator = await this.access.operatorOf(caller, existing.institutionId);
    if (!operator) {
      if (await this.visible(caller, existing))
        throw new DomainError(
          ErrorCode.FORBIDDEN,
          'Only an operator (经办人) of the institution checks identities',
        );
      throw notFound('Enrollment');
    }
    return this.deps.ds.transaction(async (m) => {
      const row = (await this.repos.enrollments.lockById(m, enrollmentId))!;
      if (row.state !== 'PENDING_IDENTITY_CHECK') {
        throw new DomainError(
          ErrorCode.INVALID_STATE,
          `The enrollment is ${row.state}; its identity check is done`,
        );
      }
      const now = this.deps.clock.now();
      row.state = matched ? 'ACTIVE' : 'REFUSED';
      row.identityCheckedAt = now;
      row.identityCheckedBy = operator.personId;
      row.updatedAt = now;
      await this.repos.enrollments.save(m, row);
      if (!matched) await this.repos.classes.addCounts(m, row.classId, -1, 0);
      await audit(
        this.deps,
        m,
        caller,
        matched ? 'enrollment.identity-confirmed' : 'enrollment.identity-refused',
        {
          type: 'Enrollment',
          id: row.id,
        },
      );
      return row;
    });
  }
}
