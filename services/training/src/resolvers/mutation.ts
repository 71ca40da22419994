import { mutationPayload } from '@vtv/kit';
import type { LocationCheckIn } from '../services/attendance';
import type { ChangeRoster, SubmitClassPlan } from '../services/class-plans';
import type { RequestInstitutionChange } from '../services/change-requests';
import type { ReviewCompletion } from '../services/completion';
import type { EvaluateInstitution, EvaluateTrainee } from '../services/evaluations';
import type { RegisterInstitution } from '../services/institutions';
import type { AddOperator, TransferMainOperator, UpdateOperator } from '../services/operators';
import type { Ctx } from './context';

type Input<T> = { input: T };
const code = (c: { token: string; expiresAt: Date }) => ({
  token: c.token,
  expiresAt: c.expiresAt.toISOString(),
});

/** Thin: each mutation maps to one service call; DomainErrors become payload errors. */
export const Mutation = {
  registerInstitution: (_: unknown, { input }: Input<RegisterInstitution>, ctx: Ctx) =>
    mutationPayload(async () => ({ institution: await ctx.institutions.register(ctx.caller, input) })),
  setInstitutionActive: (_: unknown, a: { id: string; active: boolean }, ctx: Ctx) =>
    mutationPayload(async () => ({
      institution: await ctx.institutions.setActive(ctx.caller, a.id, a.active),
    })),
  addOperator: (_: unknown, { input }: Input<AddOperator>, ctx: Ctx) =>
    mutationPayload(async () => ({ operator: await ctx.operators.add(ctx.caller, input) })),
  updateOperator: (_: unknown, { input }: Input<UpdateOperator>, ctx: Ctx) =>
    mutationPayload(async () => ({ operator: await ctx.operators.update(ctx.caller, input) })),
  transferMainOperator: (_: unknown, { input }: Input<TransferMainOperator>, ctx: Ctx) =>
    mutationPayload(() => ctx.operators.transferMain(ctx.caller, input)),
  requestInstitutionChange: (_: unknown, { input }: Input<RequestInstitutionChange>, ctx: Ctx) =>
    mutationPayload(async () => ({ changeRequest: await ctx.changeRequests.request(ctx.caller, input) })),
  approveInstitutionChange: (_: unknown, { id }: { id: string }, ctx: Ctx) =>
    mutationPayload(async () => ({ changeRequest: await ctx.changeRequests.approve(ctx.caller, id) })),
  rejectInstitutionChange: (_: unknown, a: { id: string; reason: string }, ctx: Ctx) =>
    mutationPayload(async () => ({
      changeRequest: await ctx.changeRequests.reject(ctx.caller, a.id, a.reason),
    })),

  submitClassPlan: (_: unknown, { input }: Input<SubmitClassPlan>, ctx: Ctx) =>
    mutationPayload(async () => ({ trainingClass: await ctx.classPlans.submit(ctx.caller, input) })),
  approveClassPlan: (_: unknown, { id }: { id: string }, ctx: Ctx) =>
    mutationPayload(async () => ({ trainingClass: await ctx.classPlans.approve(ctx.caller, id) })),
  rejectClassPlan: (_: unknown, a: { id: string; reason: string }, ctx: Ctx) =>
    mutationPayload(async () => ({ trainingClass: await ctx.classPlans.reject(ctx.caller, a.id, a.reason) })),
  changeClassRoster: (_: unknown, { input }: Input<ChangeRoster>, ctx: Ctx) =>
    mutationPayload(async () => ({ trainingClass: await ctx.classPlans.changeRoster(ctx.caller, input) })),

  enrollInClass: (_: unknown, { classId }: { classId: string }, ctx: Ctx) =>
    mutationPayload(async () => ({ enrollment: await ctx.enrollments.enroll(ctx.caller, classId) })),
  checkEnrollmentIdentity: (_: unknown, a: { enrollmentId: string; matched: boolean }, ctx: Ctx) =>
    mutationPayload(async () => ({
      enrollment: await ctx.enrollments.checkIdentity(ctx.caller, a.enrollmentId, a.matched),
    })),

  checkIn: (_: unknown, { input }: Input<LocationCheckIn>, ctx: Ctx) =>
    mutationPayload(async () => ({ attendance: await ctx.attendance.checkInByLocation(ctx.caller, input) })),
  issueClassCheckInCode: (_: unknown, { sessionId }: { sessionId: string }, ctx: Ctx) =>
    mutationPayload(async () => ({ code: code(await ctx.attendance.issueClassQr(ctx.caller, sessionId)) })),
  checkInWithClassCode: (_: unknown, { token }: { token: string }, ctx: Ctx) =>
    mutationPayload(async () => ({ attendance: await ctx.attendance.checkInWithClassQr(ctx.caller, token) })),
  issueTraineeCheckInCode: (_: unknown, { sessionId }: { sessionId: string }, ctx: Ctx) =>
    mutationPayload(async () => ({ code: code(await ctx.attendance.issueTraineeQr(ctx.caller, sessionId)) })),
  checkInByOperatorScan: (_: unknown, { token }: { token: string }, ctx: Ctx) =>
    mutationPayload(async () => ({
      attendance: await ctx.attendance.checkInByOperatorScan(ctx.caller, token),
    })),

  reviewCompletion: (_: unknown, { input }: Input<ReviewCompletion>, ctx: Ctx) =>
    mutationPayload(async () => ({
      enrollments: (await ctx.completion.review(ctx.caller, input)).enrollments,
    })),
  evaluateInstitution: (_: unknown, { input }: Input<EvaluateInstitution>, ctx: Ctx) =>
    mutationPayload(async () => ({
      evaluation: await ctx.evaluations.evaluateInstitution(ctx.caller, input),
    })),
  evaluateTrainee: (_: unknown, { input }: Input<EvaluateTrainee>, ctx: Ctx) =>
    mutationPayload(async () => ({ evaluation: await ctx.evaluations.evaluateTrainee(ctx.caller, input) })),
};
