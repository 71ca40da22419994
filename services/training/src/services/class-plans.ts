import { enqueue } from '@vtv/events';
import {
  DomainError,
  ErrorCode,
  badInput,
  isRegionCode,
  isUuid,
  notFound,
  parsePage,
  regionPrefix,
  requireDate,
  toConnection,
  uuidv7,
  type Caller,
  type PageArgs,
} from '@vtv/kit';
import { chinaDate } from '../clock';
import {
  ClassRow,
  CourseRow,
  EnrollmentRow,
  SessionRow,
  type ClassPlanState,
  type InstitutionRow,
} from '../data/entities';
import type { CatalogueQuery } from '../data/repositories';
import { trainingError } from '../errors';
import { CLASS_APPROVE, CLASS_SUBMIT, STAFF_READ_PERMISSIONS } from '../permissions';
import { audit, requireStaff, staffIn, type Access, type Deps } from './context';
import { trainingEvents } from './events';
import {
  optionalText,
  requireCoordinates,
  requireInstant,
  requireText,
  uuidList,
  requireUuid,
} from './input';

export { CLASS_APPROVE, CLASS_SUBMIT };

export interface CourseInput {
  name: string;
  hours: number;
  description?: string | null;
}

export interface SessionInput {
  startsAt: string;
  endsAt: string;
  /** Index into the plan's courses. */
  courseIndex?: number | null;
}

export interface LocationInput {
  address: string;
  latitude: number;
  longitude: number;
}

export interface SubmitClassPlan {
  institutionId: string;
  name: string;
  occupation: string;
  trainingType: string;
  level?: string | null;
  headcount: number;
  startDate: string;
  endDate: string;
  online?: boolean | null;
  location?: LocationInput | null;
  courses?: CourseInput[] | null;
  sessions: SessionInput[];
  rosterPersonIds?: string[] | null;
}

export interface ChangeRoster {
  classId: string;
  addPersonIds?: string[] | null;
  removePersonIds?: string[] | null;
}

export interface CatalogueFilter {
  regionCode?: string | null;
  occupation?: string | null;
  trainingType?: string | null;
  startsFrom?: string | null;
  startsTo?: string | null;
  online?: boolean | null;
  openForEnrollment?: boolean | null;
}

const MAX_HEADCOUNT = 1_000;
const MAX_SESSIONS = 200;
const MAX_COURSES = 50;
const MAX_SESSION_MS = 12 * 60 * 60 * 1000;

/** When the class is over: its last session has ended (or, without sessions, its end date has passed). */
export function classEnded(c: ClassRow, sessions: SessionRow[], now: Date): boolean {
  if (sessions.length === 0) return chinaDate(now) > c.endDate;
  return sessions.every((s) => s.endsAt.getTime() <= now.getTime());
}

/**
 * 开班方案: an institution's operators submit a plan (occupation, type, level, headcount, dates, sessions
 * with time windows, courses, location, roster); the bureau of its region approves or rejects it (开班审核).
 * Approval publishes ClassPlanApproved (vouchers builds its awaiting-issuance list from it); roster changes
 * after approval publish RosterChanged (supplementary issuance, 追加发券).
 */
export class ClassPlanService {
  constructor(
    private readonly deps: Deps,
    private readonly access: Access,
  ) {}

  private get repos() {
    return this.deps.repos;
  }

  /** A class as the caller may see it: approved classes are public; plans only to the institution and its bureau. */
  async get(caller: Caller, id: string): Promise<ClassRow | null> {
    if (!isUuid(id)) return null;
    const row = await this.repos.classes.byId(id);
    return row && (await this.visible(caller, row)) ? row : null;
  }

  /** Loads a class for a field of something the caller may already see (no further check). */
  load(id: string): Promise<ClassRow | null> {
    return this.repos.classes.byId(id);
  }

  async visible(caller: Caller, row: ClassRow): Promise<boolean> {
    if (row.state === 'APPROVED') return true;
    return this.canSeeInternals(caller, row);
  }

  /** Operators of the class's institution and staff reading in its region. */
  async canSeeInternals(
    caller: Caller,
    row: Pick<ClassRow, 'institutionId' | 'regionCode'>,
  ): Promise<boolean> {
    if (staffIn(caller, row.regionCode, STAFF_READ_PERMISSIONS)) return true;
    return (await this.access.operatorOf(caller, row.institutionId)) !== null;
  }

  async pageByInstitution(caller: Caller, institution: InstitutionRow, args: PageArgs) {
    const { limit, afterKey } = parsePage(args);
    const all = await this.access.canSeeInternals(caller, institution);
    const rows = await this.repos.classes.pageByInstitution(institution.id, all ? null : ['APPROVED'], {
      limit,
      after: afterKey,
    });
    return toConnection(rows, limit, (c) => c.id);
  }

  /** The bureau's review queue (开班审核): plans in the caller's region subtree in one state. */
  async pageForReview(caller: Caller, state: ClassPlanState | null | undefined, args: PageArgs) {
    const staff = requireStaff(caller, CLASS_APPROVE);
    const { limit, afterKey } = parsePage(args);
    const rows = await this.repos.classes.pageByRegion(regionPrefix(staff.regionCode), state ?? 'SUBMITTED', {
      limit,
      after: afterKey,
    });
    return toConnection(rows, limit, (c) => c.id);
  }

  /** 查找开班信息 (Art. 14): approved classes by region subtree, occupation, training type, dates and mode. */
  async catalogue(filter: CatalogueFilter | null | undefined, args: PageArgs) {
    const f = filter ?? {};
    const { limit, afterKey } = parsePage(args);
    if (afterKey && !/^\d{4}-\d{2}-\d{2}\|[0-9a-f-]{36}$/.test(afterKey))
      throw badInput('after', 'Invalid cursor');
    if (f.regionCode != null && !isRegionCode(f.regionCode))
      throw badInput('filter.regionCode', 'regionCode must be a 6-digit GB/T 2260 code');
    const q: CatalogueQuery = {
      regionPrefix: f.regionCode ? regionPrefix(f.regionCode) : undefined,
      occupation: optionalText('filter.occupation', f.occupation, 100) ?? undefined,
      trainingType: optionalText('filter.trainingType', f.trainingType, 50) ?? undefined,
      startsFrom: f.startsFrom != null ? requireDate('filter.startsFrom', f.startsFrom) : undefined,
      startsTo: f.startsTo != null ? requireDate('filter.startsTo', f.startsTo) : undefined,
      online: f.online ?? undefined,
      openOn: f.openForEnrollment ? chinaDate(this.deps.clock.now()) : undefined,
    };
    if (q.startsFrom && q.startsTo && q.startsTo < q.startsFrom)
      throw badInput('filter.startsTo', 'startsTo must not be before startsFrom');
    const rows = await this.repos.classes.catalogue(q, { limit, after: afterKey });
    return toConnection(rows, limit, (c) => `${c.startDate}|${c.id}`);
  }

  sessions(classId: string): Promise<SessionRow[]> {
    return this.repos.classes.sessionsOf(classId);
  }

  courses(classId: string): Promise<CourseRow[]> {
    return this.repos.classes.coursesOf(classId);
  }

  async course(caller: Caller, id: string): Promise<CourseRow | null> {
    if (!isUuid(id)) return null;
    const course = await this.repos.classes.courseById(id);
    return course && (await this.get(caller, course.classId)) ? course : null;
  }

  courseById(id: string): Promise<CourseRow | null> {
    return this.repos.classes.courseById(id);
  }

  async rating(classId: string): Promise<{ count: number; sum: number }> {
    return this.repos.classes.ratingOf(classId);
  }

  /** Who may act for the institution on plans: its enabled operators, or bureau staff holding training:class:submit. */
  private async requireSubmitter(caller: Caller, institution: InstitutionRow): Promise<void> {
    if (caller.kind === 'staff' || caller.kind === 'client') {
      requireStaff(caller, CLASS_SUBMIT);
      if (!staffIn(caller, institution.regionCode, [CLASS_SUBMIT])) throw notFound('Institution');
      return;
    }
    await this.access.requireOperator(caller, institution.id);
  }

  async submit(caller: Caller, input: SubmitClassPlan): Promise<ClassRow> {
    const institutionId = requireUuid('institutionId', input.institutionId);
    const institution = await this.repos.institutions.byId(institutionId);
    if (!institution) throw notFound('Institution');
    await this.requireSubmitter(caller, institution);

    if (!Number.isInteger(input.headcount) || input.headcount < 1 || input.headcount > MAX_HEADCOUNT) {
      throw badInput('headcount', `headcount must be a whole number between 1 and ${MAX_HEADCOUNT}`);
    }
    const startDate = requireDate('startDate', input.startDate);
    const endDate = requireDate('endDate', input.endDate);
    if (endDate < startDate) throw badInput('endDate', 'endDate must not be before startDate');
    const online = input.online === true;
    let location: LocationInput | null = null;
    if (input.location) {
      requireCoordinates(input.location.latitude, input.location.longitude, 'location.');
      location = {
        address: requireText('location.address', input.location.address, 300),
        latitude: input.location.latitude,
        longitude: input.location.longitude,
      };
    }
    const roster = uuidList('rosterPersonIds', input.rosterPersonIds, MAX_HEADCOUNT);
    if (roster.length > input.headcount)
      throw badInput('rosterPersonIds', 'The roster is larger than the headcount');

    const classId = uuidv7();
    const coursesIn = input.courses ?? [];
    if (coursesIn.length > MAX_COURSES)
      throw badInput('courses', `A plan has at most ${MAX_COURSES} courses`);
    const courses = coursesIn.map((c, i) => {
      if (!Number.isInteger(c.hours) || c.hours < 1 || c.hours > 2000)
        throw badInput(`courses.${i}.hours`, 'hours (学时) must be a whole number between 1 and 2000');
      return Object.assign(new CourseRow(), {
        id: uuidv7(),
        classId,
        seq: i + 1,
        name: requireText(`courses.${i}.name`, c.name, 100),
        hours: c.hours,
        description: optionalText(`courses.${i}.description`, c.description, 1000),
      });
    });

    const sessionsIn = input.sessions ?? [];
    if (sessionsIn.length === 0) throw badInput('sessions', 'A plan schedules at least one session (课次)');
    if (sessionsIn.length > MAX_SESSIONS)
      throw badInput('sessions', `A plan has at most ${MAX_SESSIONS} sessions`);
    const sessions = sessionsIn
      .map((s, i) => {
        const startsAt = requireInstant(`sessions.${i}.startsAt`, s.startsAt);
        const endsAt = requireInstant(`sessions.${i}.endsAt`, s.endsAt);
        if (endsAt <= startsAt) throw badInput(`sessions.${i}.endsAt`, 'A session must end after it starts');
        if (endsAt.getTime() - startsAt.getTime() > MAX_SESSION_MS)
          throw badInput(`sessions.${i}.endsAt`, 'A session lasts at most 12 hours');
        if (chinaDate(startsAt) < startDate || chinaDate(endsAt) > endDate)
          throw badInput(
            `sessions.${i}.startsAt`,
            'Sessions must fall between the start and end dates of the class',
          );
        let courseId: string | null = null;
        if (s.courseIndex != null) {
          const course = courses[s.courseIndex];
          if (!Number.isInteger(s.courseIndex) || !course)
            throw badInput(`sessions.${i}.courseIndex`, 'courseIndex must name one of the plan’s courses');
          courseId = course.id;
        }
        return { startsAt, endsAt, courseId };
      })
      .sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime())
      .map((s, i) => Object.assign(new SessionRow(), { id: uuidv7(), classId, seq: i + 1, ...s }));
    for (let i = 1; i < sessions.length; i += 1) {
      if (sessions[i]!.startsAt < sessions[i - 1]!.endsAt)
        throw badInput('sessions', 'Sessions must not overlap');
    }

    const now = this.deps.clock.now();
    const row = Object.assign(new ClassRow(), {
      id: classId,
      institutionId: institution.id,
      regionCode: institution.regionCode,
      name: requireText('name', input.name, 200),
      occupation: requireText('occupation', input.occupation, 100),
      trainingType: requireText('trainingType', input.trainingType, 50),
      level: optionalText('level', input.level, 20),
      headcount: input.headcount,
      startDate,
      endDate,
      online,
      locationAddress: location?.address ?? null,
      locationLatitude: location?.latitude ?? null,
      locationLongitude: location?.longitude ?? null,
      state: 'SUBMITTED' as const,
      sessionCount: sessions.length,
      enrolledCount: roster.length,
      rosterSize: roster.length,
      submittedBy: caller.id ?? null,
      approvedAt: null,
      approvedBy: null,
      rejectedAt: null,
      rejectedBy: null,
      rejectionReason: null,
      createdAt: now,
    });
    await this.deps.ds.transaction(async (m) => {
      await this.repos.classes.insert(m, row, courses, sessions);
      // The institution drew up the roster itself (定向名单), so its identity check is the submission.
      await this.repos.enrollments.insert(
        m,
        roster.map((personId) => rosterEnrollment(row, personId, caller.id!, now)),
      );
      await audit(
        this.deps,
        m,
        caller,
        'class.submit',
        { type: 'TrainingClass', id: row.id },
        {
          institutionId: row.institutionId,
          rosterSize: roster.length,
        },
      );
    });
    return row;
  }

  /** 开班审核: the approval and its ClassPlanApproved event commit together (outbox). */
  async approve(caller: Caller, id: string): Promise<ClassRow> {
    const staff = requireStaff(caller, CLASS_APPROVE);
    if (!isUuid(id)) throw notFound('Class plan');
    return this.deps.ds.transaction(async (m) => {
      const row = await this.repos.classes.lockById(m, id);
      if (!row || !staffIn(caller, row.regionCode, [CLASS_APPROVE])) throw notFound('Class plan');
      if (row.state !== 'SUBMITTED') {
        throw new DomainError(
          ErrorCode.INVALID_STATE,
          `Only a submitted plan can be approved; this one is ${row.state}`,
        );
      }
      const now = this.deps.clock.now();
      row.state = 'APPROVED';
      row.approvedAt = now;
      row.approvedBy = staff.id;
      await this.repos.classes.save(m, row);
      const roster = await this.repos.enrollments.rosterOf(m, row.id);
      await enqueue(m, [trainingEvents.classPlanApproved(row, roster, now, staff.id)]);
      await audit(this.deps, m, caller, 'class.approve', { type: 'TrainingClass', id: row.id });
      return row;
    });
  }

  async reject(caller: Caller, id: string, reason: string): Promise<ClassRow> {
    const staff = requireStaff(caller, CLASS_APPROVE);
    const why = requireText('reason', reason ?? '', 500);
    if (!isUuid(id)) throw notFound('Class plan');
    return this.deps.ds.transaction(async (m) => {
      const row = await this.repos.classes.lockById(m, id);
      if (!row || !staffIn(caller, row.regionCode, [CLASS_APPROVE])) throw notFound('Class plan');
      if (row.state !== 'SUBMITTED') {
        throw new DomainError(
          ErrorCode.INVALID_STATE,
          `Only a submitted plan can be rejected; this one is ${row.state}`,
        );
      }
      const now = this.deps.clock.now();
      row.state = 'REJECTED';
      row.rejectedAt = now;
      row.rejectedBy = staff.id;
      row.rejectionReason = why;
      await this.repos.classes.save(m, row);
      await enqueue(m, [trainingEvents.classPlanRejected(row, why, now, staff.id)]);
      await audit(
        this.deps,
        m,
        caller,
        'class.reject',
        { type: 'TrainingClass', id: row.id },
        { reason: why },
      );
      return row;
    });
  }

  /** Adds people to or removes them from the roster (名单); after approval this publishes RosterChanged. */
  async changeRoster(caller: Caller, input: ChangeRoster): Promise<ClassRow> {
    const classId = requireUuid('classId', input.classId);
    const add = uuidList('addPersonIds', input.addPersonIds, MAX_HEADCOUNT);
    const remove = uuidList('removePersonIds', input.removePersonIds, MAX_HEADCOUNT);
    if (add.length === 0 && remove.length === 0)
      throw badInput('addPersonIds', 'Name people to add or remove');
    if (add.some((p) => remove.includes(p)))
      throw badInput('removePersonIds', 'A person cannot be both added and removed');
    const existing = await this.repos.classes.byId(classId);
    if (!existing || !(await this.visible(caller, existing))) throw notFound('Class');
    const institution = (await this.repos.institutions.byId(existing.institutionId))!;
    await this.requireSubmitter(caller, institution);

    return this.deps.ds.transaction(async (m) => {
      const row = (await this.repos.classes.lockById(m, classId))!;
      if (row.state === 'REJECTED')
        throw new DomainError(ErrorCode.INVALID_STATE, 'The plan was rejected; submit a new one');
      const now = this.deps.clock.now();
      if (classEnded(row, await this.repos.classes.sessionsOf(row.id, m), now)) {
        throw new DomainError(ErrorCode.INVALID_STATE, 'The class has ended; its roster is closed');
      }
      const current = new Map(
        (await this.repos.enrollments.lockMany(m, row.id, [...add, ...remove])).map((e) => [e.personId, e]),
      );
      const fresh: EnrollmentRow[] = [];
      let enrolled = 0;
      let rosterDelta = 0;
      for (const personId of add) {
        const e = current.get(personId);
        if (!e) {
          fresh.push(rosterEnrollment(row, personId, caller.id!, now));
        } else if (e.source === 'ROSTER' && e.state === 'WITHDRAWN') {
          e.state = 'ACTIVE';
          e.identityCheckedAt = now;
          e.identityCheckedBy = caller.id!;
          e.updatedAt = now;
          await this.repos.enrollments.save(m, e);
        } else {
          throw trainingError(
            'ALREADY_ENROLLED',
            'One of these people is already in the class',
            'addPersonIds',
          );
        }
        enrolled += 1;
        rosterDelta += 1;
      }
      for (const personId of remove) {
        const e = current.get(personId);
        if (!e || e.source !== 'ROSTER' || e.state !== 'ACTIVE')
          throw badInput('removePersonIds', 'Only people on the roster can be removed from it');
        if (e.completionPassed !== null)
          throw new DomainError(
            ErrorCode.INVALID_STATE,
            'A trainee whose completion is recorded stays on the roster',
            'removePersonIds',
          );
        e.state = 'WITHDRAWN';
        e.updatedAt = now;
        await this.repos.enrollments.save(m, e);
        enrolled -= 1;
        rosterDelta -= 1;
      }
      if (row.enrolledCount + enrolled > row.headcount) {
        throw trainingError(
          'CLASS_FULL',
          `The class would exceed its headcount of ${row.headcount}`,
          'addPersonIds',
        );
      }
      await this.repos.enrollments.insert(m, fresh);
      await this.repos.classes.addCounts(m, row.id, enrolled, rosterDelta);
      row.enrolledCount += enrolled;
      row.rosterSize += rosterDelta;
      if (row.state === 'APPROVED')
        await enqueue(m, [trainingEvents.rosterChanged(row, add, remove, now, caller.id!)]);
      await audit(
        this.deps,
        m,
        caller,
        'class.roster',
        { type: 'TrainingClass', id: row.id },
        { added: add, removed: remove },
      );
      return row;
    });
  }
}

function rosterEnrollment(c: ClassRow, personId: string, by: string, now: Date): EnrollmentRow {
  return Object.assign(new EnrollmentRow(), {
    id: uuidv7(),
    classId: c.id,
    institutionId: c.institutionId,
    regionCode: c.regionCode,
    personId,
    source: 'ROSTER' as const,
    state: 'ACTIVE' as const,
    enrolledAt: now,
    identityCheckedAt: now,
    identityCheckedBy: by,
    attendedSessions: 0,
    completionPassed: null,
    completionReviewedBy: null,
    completionReviewedAt: null,
    completionRemark: null,
    updatedAt: now,
  });
}
