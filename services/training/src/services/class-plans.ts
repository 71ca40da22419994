import { TOPICS, ClassPlanApprovedSchema, buildEvent, enqueue } from '@vtv/events';
import {
  DomainError,
  ErrorCode,
  badInput,
  inRegion,
  isUuid,
  notFound,
  parsePage,
  requireDate,
  requirePermission,
  requireText,
  toConnection,
  uuidv7,
  type Caller,
  type DataSource,
  type PageArgs,
} from '@vtv/kit';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { ClassRow } from '../data/entities';
import type { ClassRepository } from '../data/repositories';
import type { InstitutionService } from './institutions';

export const CLASS_SUBMIT = 'training:class:submit';
export const CLASS_APPROVE = 'training:class:approve';

export interface SubmitClassPlan {
  institutionId: string;
  name: string;
  occupation: string;
  trainingType: string;
  level?: string | null;
  headcount: number;
  startDate: string;
  endDate: string;
  rosterPersonIds: string[];
}

export class ClassPlanService {
  constructor(
    private readonly ds: DataSource,
    private readonly classes: ClassRepository,
    private readonly institutions: InstitutionService,
  ) {}

  get(id: string): Promise<ClassRow | null> {
    return isUuid(id) ? this.classes.byId(id) : Promise.resolve(null);
  }

  async pageByInstitution(institutionId: string, args: PageArgs) {
    const { limit, afterKey } = parsePage(args);
    return toConnection(
      await this.classes.pageByInstitution(institutionId, limit, afterKey),
      limit,
      (c) => c.id,
    );
  }

  async submit(caller: Caller, input: SubmitClassPlan): Promise<ClassRow> {
    requirePermission(caller, CLASS_SUBMIT);
    const institution = await this.institutions.get(input.institutionId);
    if (!institution || !caller.regionCode || !inRegion(caller.regionCode, institution.regionCode)) {
      throw notFound('Institution');
    }
    if (!Number.isInteger(input.headcount) || input.headcount < 1 || input.headcount > 1000) {
      throw badInput('headcount', 'headcount must be an integer between 1 and 1000');
    }
    const startDate = requireDate('startDate', input.startDate);
    const endDate = requireDate('endDate', input.endDate);
    if (endDate < startDate) throw badInput('endDate', 'endDate must not be before startDate');
    const roster = [...new Set(input.rosterPersonIds)];
    if (roster.some((id) => !isUuid(id)))
      throw badInput('rosterPersonIds', 'rosterPersonIds must be person ids');
    if (roster.length > input.headcount)
      throw badInput('rosterPersonIds', 'The roster is larger than the headcount');
    const row = Object.assign(new ClassRow(), {
      id: uuidv7(),
      institutionId: institution.id,
      regionCode: institution.regionCode,
      name: requireText('name', input.name, 200),
      occupation: requireText('occupation', input.occupation, 100),
      trainingType: requireText('trainingType', input.trainingType, 50),
      level: input.level ? requireText('level', input.level, 20) : null,
      headcount: input.headcount,
      startDate,
      endDate,
      state: 'SUBMITTED' as const,
      rosterPersonIds: roster,
      approvedAt: null,
      approvedBy: null,
      createdAt: new Date(),
    });
    await this.classes.insert(row);
    return row;
  }

  /** 开班审核: the approval and its ClassPlanApproved event commit together (outbox). */
  async approve(caller: Caller, id: string): Promise<ClassRow> {
    requirePermission(caller, CLASS_APPROVE);
    if (!isUuid(id)) throw notFound('Class plan');
    return this.ds.transaction(async (manager) => {
      const row = await this.classes.lockById(manager, id);
      if (!row || !caller.regionCode || !inRegion(caller.regionCode, row.regionCode))
        throw notFound('Class plan');
      if (row.state !== 'SUBMITTED') {
        throw new DomainError(
          ErrorCode.INVALID_STATE,
          `Only a submitted plan can be approved; this one is ${row.state}`,
        );
      }
      const now = new Date();
      row.state = 'APPROVED';
      row.approvedAt = now;
      row.approvedBy = caller.id ?? null;
      await this.classes.save(manager, row);
      await enqueue(manager, [
        buildEvent({
          schema: ClassPlanApprovedSchema,
          topic: TOPICS.trainingClass.name,
          subject: row.id,
          source: '/vtv/training',
          data: {
            classId: row.id,
            institutionId: row.institutionId,
            regionCode: row.regionCode,
            name: row.name,
            occupation: row.occupation,
            trainingType: row.trainingType,
            level: row.level ?? '',
            headcount: row.headcount,
            startDate: row.startDate,
            endDate: row.endDate,
            rosterPersonIds: row.rosterPersonIds,
            approvedAt: timestampFromDate(now),
            approvedBy: caller.id ?? '',
          },
        }),
      ]);
      return row;
    });
  }
}
