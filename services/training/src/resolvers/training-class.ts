import type { PageArgs } from '@vtv/kit';
import type { ClassRow, CourseRow, SessionRow } from '../data/entities';
import { iso, rating, type Ctx } from './context';

export const TrainingClass = {
  __resolveReference: (ref: { id: string }, ctx: Ctx) => ctx.classPlans.get(ctx.caller, ref.id),
  institution: (c: ClassRow, _: unknown, ctx: Ctx) => ctx.institutions.get(c.institutionId),
  location: async (c: ClassRow, _: unknown, ctx: Ctx) => {
    if (c.online) return null;
    if (c.locationAddress != null) {
      return { address: c.locationAddress, latitude: c.locationLatitude, longitude: c.locationLongitude };
    }
    const i = await ctx.institutions.get(c.institutionId);
    return i && { address: i.address, latitude: i.latitude, longitude: i.longitude };
  },
  sessions: (c: ClassRow, _: unknown, ctx: Ctx) => ctx.classPlans.sessions(c.id),
  courses: (c: ClassRow, _: unknown, ctx: Ctx) => ctx.classPlans.courses(c.id),
  rating: async (c: ClassRow, _: unknown, ctx: Ctx) => {
    const r = await ctx.classPlans.rating(c.id);
    return rating(r.count, r.sum);
  },
  submittedAt: (c: ClassRow) => iso(c.createdAt),
  approvedAt: (c: ClassRow) => iso(c.approvedAt),
  rejectedAt: (c: ClassRow) => iso(c.rejectedAt),
  enrollments: async (c: ClassRow, args: PageArgs, ctx: Ctx) =>
    (await ctx.classPlans.canSeeInternals(ctx.caller, c))
      ? ctx.enrollments.page({ classId: c.id }, args)
      : null,
};

export const TrainingSession = {
  sequence: (s: SessionRow) => s.seq,
  startsAt: (s: SessionRow) => iso(s.startsAt),
  endsAt: (s: SessionRow) => iso(s.endsAt),
  checkInOpensAt: (s: SessionRow, _: unknown, ctx: Ctx) =>
    iso(new Date(s.startsAt.getTime() - ctx.config.CHECKIN_OPENS_BEFORE_MIN * 60_000)),
  course: (s: SessionRow, _: unknown, ctx: Ctx) =>
    s.courseId ? ctx.classPlans.courseById(s.courseId) : null,
};

export const Course = {
  __resolveReference: (ref: { id: string }, ctx: Ctx) => ctx.classPlans.course(ctx.caller, ref.id),
  trainingClass: (c: CourseRow, _: unknown, ctx: Ctx) => ctx.classPlans.load(c.classId),
};
