import type { PageArgs } from '@vtv/kit';
import type { AttendanceRow, EnrollmentRow, EvaluationRow } from '../data/entities';
import { attendanceRateBp } from '../services/events';
import { iso, person, type Ctx } from './context';

/** An enrollment's fields; reaching one means the caller may see the enrollment. */
export const Enrollment = {
  __resolveReference: (ref: { id: string }, ctx: Ctx) => ctx.enrollments.get(ctx.caller, ref.id),
  trainingClass: (e: EnrollmentRow, _: unknown, ctx: Ctx) => ctx.classPlans.load(e.classId),
  person: (e: EnrollmentRow) => person(e.personId),
  enrolledAt: (e: EnrollmentRow) => iso(e.enrolledAt),
  identityCheckedAt: (e: EnrollmentRow) => iso(e.identityCheckedAt),
  scheduledSessions: async (e: EnrollmentRow, _: unknown, ctx: Ctx) =>
    (await ctx.classPlans.load(e.classId))?.sessionCount ?? 0,
  attendanceRateBp: async (e: EnrollmentRow, _: unknown, ctx: Ctx) =>
    attendanceRateBp(e.attendedSessions, (await ctx.classPlans.load(e.classId))?.sessionCount ?? 0),
  attendance: (e: EnrollmentRow, _: unknown, ctx: Ctx) => ctx.attendance.byEnrollment(e.id),
  completion: (e: EnrollmentRow) =>
    e.completionPassed === null
      ? null
      : {
          passed: e.completionPassed,
          reviewedBy: e.completionReviewedBy,
          reviewedAt: iso(e.completionReviewedAt),
          remark: e.completionRemark,
        },
  traineeEvaluation: (e: EnrollmentRow, _: unknown, ctx: Ctx) =>
    ctx.evaluations.of(e.id, 'TRAINEE_TO_INSTITUTION'),
  institutionEvaluation: (e: EnrollmentRow, _: unknown, ctx: Ctx) =>
    ctx.evaluations.of(e.id, 'INSTITUTION_TO_TRAINEE'),
};

export const AttendanceRecord = {
  session: (a: AttendanceRow, _: unknown, ctx: Ctx) => ctx.attendance.session(a.sessionId),
  trainingClass: (a: AttendanceRow, _: unknown, ctx: Ctx) => ctx.classPlans.load(a.classId),
  enrollment: (a: AttendanceRow, _: unknown, ctx: Ctx) => ctx.enrollments.load(a.enrollmentId),
  checkedInAt: (a: AttendanceRow) => iso(a.checkedInAt),
};

export const Evaluation = {
  createdAt: (e: EvaluationRow) => iso(e.createdAt),
};

export const Person = {
  __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
  enrollments: (p: { id: string }, args: PageArgs, ctx: Ctx) =>
    ctx.enrollments.pageForPerson(ctx.caller, p.id, args),
  attendance: (p: { id: string }, args: PageArgs, ctx: Ctx) =>
    ctx.attendance.pageForPerson(ctx.caller, p.id, args),
};
