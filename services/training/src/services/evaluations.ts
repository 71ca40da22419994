import { uuidv7, notFound, type Caller, type EntityManager } from '@vtv/kit';
import { EvaluationRow, type EvaluationDirection, type ClassRow, type EnrollmentRow } from '../data/entities';
import { isUniqueViolation } from '../data/repositories';
import { trainingError } from '../errors';
import { classEnded } from './class-plans';
import { audit, requirePerson, type Access, type Deps } from './context';
import { optionalText, requireScore, requireUuid } from './input';

export interface EvaluateInstitution {
  classId: string;
  score: number;
  comment?: string | null;
}

export interface EvaluateTrainee {
  enrollmentId: string;
  score: number;
  comment?: string | null;
}

/**
 * 双向评价 (seed 000 §3.2.2): after the class a trainee who attended scores the institution (1–5 with a
 * comment); the institution rates each trainee. Once each way per enrollment. Trainees' scores roll up
 * into the institution's rating shown in the catalogue, in the same transaction.
 */
export class EvaluationService {
  constructor(
    private readonly deps: Deps,
    private readonly access: Access,
  ) {}

  of(enrollmentId: string, direction: EvaluationDirection): Promise<EvaluationRow | null> {
    return this.deps.repos.evaluations.of(enrollmentId, direction);
  }

  private async requireEnded(cls: ClassRow): Promise<void> {
    if (!classEnded(cls, await this.deps.repos.classes.sessionsOf(cls.id), this.deps.clock.now())) {
      throw trainingError('CLASS_NOT_ENDED', 'Evaluations open after the class’s last session');
    }
  }

  async evaluateInstitution(caller: Caller, input: EvaluateInstitution): Promise<EvaluationRow> {
    const personId = requirePerson(caller);
    const classId = requireUuid('classId', input.classId);
    const score = requireScore(input.score);
    const comment = optionalText('comment', input.comment, 500);
    const cls = await this.deps.repos.classes.byId(classId);
    if (!cls || cls.state !== 'APPROVED') throw notFound('Class');
    const e = await this.deps.repos.enrollments.of(cls.id, personId);
    if (!e || e.state !== 'ACTIVE')
      throw trainingError('NOT_ENROLLED', 'You were not a trainee of this class', 'classId');
    await this.requireEnded(cls);
    if (e.attendedSessions === 0)
      throw trainingError('NOT_ATTENDED', 'Only trainees who attended the class can rate it', 'classId');
    return this.insert(e, cls, 'TRAINEE_TO_INSTITUTION', score, comment, personId, caller, async (m) => {
      await this.deps.repos.institutions.addRating(m, cls.institutionId, score);
    });
  }

  async evaluateTrainee(caller: Caller, input: EvaluateTrainee): Promise<EvaluationRow> {
    requirePerson(caller);
    const enrollmentId = requireUuid('enrollmentId', input.enrollmentId);
    const score = requireScore(input.score);
    const comment = optionalText('comment', input.comment, 500);
    const e = await this.deps.repos.enrollments.byId(enrollmentId);
    if (!e) throw notFound('Enrollment');
    const operator = await this.access.operatorOf(caller, e.institutionId);
    if (!operator) throw notFound('Enrollment');
    if (e.state !== 'ACTIVE')
      throw trainingError('NOT_ENROLLED', 'This person was not a trainee of the class', 'enrollmentId');
    const cls = (await this.deps.repos.classes.byId(e.classId))!;
    await this.requireEnded(cls);
    return this.insert(e, cls, 'INSTITUTION_TO_TRAINEE', score, comment, operator.personId, caller);
  }

  private async insert(
    e: EnrollmentRow,
    cls: ClassRow,
    direction: EvaluationDirection,
    score: number,
    comment: string | null,
    authorId: string,
    caller: Caller,
    alsoIn?: (m: EntityManager) => Promise<void>,
  ): Promise<EvaluationRow> {
    const row = Object.assign(new EvaluationRow(), {
      id: uuidv7(),
      enrollmentId: e.id,
      classId: cls.id,
      institutionId: cls.institutionId,
      direction,
      score,
      comment,
      authorId,
      createdAt: this.deps.clock.now(),
    });
    try {
      await this.deps.ds.transaction(async (m) => {
        await this.deps.repos.evaluations.insert(m, row);
        await alsoIn?.(m);
        if (direction === 'INSTITUTION_TO_TRAINEE')
          await audit(
            this.deps,
            m,
            caller,
            'enrollment.evaluate',
            { type: 'Enrollment', id: e.id },
            { score },
          );
      });
    } catch (err) {
      if (isUniqueViolation(err, 'evaluations_enrollment_id_direction_key')) {
        throw trainingError('ALREADY_EVALUATED', 'This evaluation has already been given', 'score');
      }
      throw err;
    }
    return row;
  }
}
