import { enqueue } from '@vtv/events';
import { DomainError, ErrorCode, badInput, notFound, type Caller } from '@vtv/kit';
import type { ClassRow, EnrollmentRow } from '../data/entities';
import { trainingError } from '../errors';
import { COMPLETION_REVIEW } from '../permissions';
import { classEnded } from './class-plans';
import { audit, requireStaff, staffIn, type Deps } from './context';
import { attendanceRateBp, trainingEvents } from './events';
import { optionalText, requireUuid } from './input';

export { COMPLETION_REVIEW };

export interface CompletionResultInput {
  enrollmentId: string;
  passed: boolean;
  remark?: string | null;
}

export interface ReviewCompletion {
  classId: string;
  results: CompletionResultInput[];
}

const MAX_RESULTS = 1_000;

/**
 * 结业审核: after the class, bureau staff holding training:completion:review in its region record pass or
 * fail per trainee, once, with the reviewer. Each result publishes CompletionRecorded: a fail makes
 * vouchers invalidate the trainee's used voucher (Art. 30); passes feed settlement and the e-archive.
 * A batch is all or nothing.
 */
export class CompletionService {
  constructor(private readonly deps: Deps) {}

  async review(
    caller: Caller,
    input: ReviewCompletion,
  ): Promise<{ cls: ClassRow; enrollments: EnrollmentRow[] }> {
    const staff = requireStaff(caller, COMPLETION_REVIEW);
    const classId = requireUuid('classId', input.classId);
    const results = input.results ?? [];
    if (results.length === 0) throw badInput('results', 'Give at least one result');
    if (results.length > MAX_RESULTS) throw badInput('results', `At most ${MAX_RESULTS} results at once`);
    const byId = new Map<string, { passed: boolean; remark: string | null }>();
    results.forEach((r, i) => {
      const id = requireUuid(`results.${i}.enrollmentId`, r.enrollmentId);
      if (byId.has(id)) throw badInput(`results.${i}.enrollmentId`, 'Each trainee appears once');
      if (typeof r.passed !== 'boolean')
        throw badInput(`results.${i}.passed`, 'passed must be true or false');
      byId.set(id, { passed: r.passed, remark: optionalText(`results.${i}.remark`, r.remark, 500) });
    });

    return this.deps.ds.transaction(async (m) => {
      const cls = await this.deps.repos.classes.lockById(m, classId);
      if (!cls || !staffIn(caller, cls.regionCode, [COMPLETION_REVIEW])) throw notFound('Class');
      if (cls.state !== 'APPROVED')
        throw new DomainError(ErrorCode.INVALID_STATE, 'Only an approved class has a completion review');
      const now = this.deps.clock.now();
      if (!classEnded(cls, await this.deps.repos.classes.sessionsOf(cls.id, m), now)) {
        throw trainingError(
          'CLASS_NOT_ENDED',
          'The completion review (结业审核) comes after the class’s last session',
        );
      }
      const rows = await this.deps.repos.enrollments.lockByIds(m, [...byId.keys()]);
      const found = new Map(rows.map((r) => [r.id, r]));
      const reviewed: EnrollmentRow[] = [];
      let i = 0;
      for (const [id, result] of byId) {
        const field = `results.${i}.enrollmentId`;
        i += 1;
        const e = found.get(id);
        if (!e || e.classId !== cls.id)
          throw new DomainError(ErrorCode.NOT_FOUND, 'No such trainee in this class', field);
        if (e.state === 'PENDING_IDENTITY_CHECK')
          throw trainingError(
            'IDENTITY_CHECK_PENDING',
            'The institution has not checked this trainee’s identity',
            field,
          );
        if (e.state !== 'ACTIVE')
          throw new DomainError(ErrorCode.INVALID_STATE, `The enrollment is ${e.state}`, field);
        if (e.completionPassed !== null)
          throw trainingError(
            'COMPLETION_ALREADY_RECORDED',
            'This trainee’s completion is already recorded',
            field,
          );
        e.completionPassed = result.passed;
        e.completionRemark = result.remark;
        e.completionReviewedBy = staff.id;
        e.completionReviewedAt = now;
        e.updatedAt = now;
        await this.deps.repos.enrollments.save(m, e);
        reviewed.push(e);
      }
      await enqueue(
        m,
        reviewed.map((e) =>
          trainingEvents.completionRecorded(e, cls, attendanceRateBp(e.attendedSessions, cls.sessionCount)),
        ),
      );
      await audit(
        this.deps,
        m,
        caller,
        'class.completion-review',
        { type: 'TrainingClass', id: cls.id },
        {
          results: reviewed.map((e) => ({ enrollmentId: e.id, passed: e.completionPassed })),
        },
      );
      return { cls, enrollments: reviewed };
    });
  }
}
