import {
  DomainError,
  ErrorCode,
  badInput,
  inRegion,
  isRegionCode,
  isUuid,
  parsePage,
  regionPrefix,
  requireCaller,
  requirePermission,
  toConnection,
  type Caller,
  type Connection,
  type PageArgs,
} from '@vtv/kit';
import type { DataSource } from 'typeorm';
import type { CertificateKind, JobPostingRow, SkillLevel } from '../data/entities';
import type { JobPostingRepository } from '../data/repositories';
import { CAREERS_JOBS_WRITE } from '../permissions';
import { chinaToday, isCalendarDate } from './dates';
import type { RecommendationService } from './recommendations';

export { CAREERS_JOBS_WRITE };

export interface JobPostingSearchArgs extends PageArgs {
  regionCode?: string | null;
  occupation?: string | null;
  /** Only postings whose pay range reaches at least this much (fen). */
  minPayFen?: number | null;
}

export interface PublishJobPostingInput {
  title: string;
  employer: string;
  occupation: string;
  requiredCertificateKind?: CertificateKind | null;
  requiredLevel?: SkillLevel | null;
  regionCode: string;
  payMinFen: number;
  payMaxFen: number;
  validUntil: string;
}

/** Trims and checks a free-text field's length in characters (not UTF-16 units). */
function text(field: string, value: string, max: number): string {
  const trimmed = value.trim();
  const length = [...trimmed].length;
  if (length < 1 || length > max) throw badInput(field, `${field} must be 1 to ${max} characters`);
  return trimmed;
}

function fen(field: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0)
    throw badInput(field, `${field} must be a non-negative integer number of fen`);
  return value;
}

export class JobPostingService {
  constructor(
    private readonly ds: DataSource,
    private readonly postings: JobPostingRepository,
    private readonly recommendations: RecommendationService,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** A posting by id; published postings are public (expired ones included, for references). */
  async byId(id: string): Promise<JobPostingRow | null> {
    return isUuid(id) ? this.postings.byId(id) : null;
  }

  /** Public self-service search: open postings (valid today or later), in id order. */
  async search(args: JobPostingSearchArgs): Promise<Connection<JobPostingRow>> {
    const { limit, afterKey } = parsePage(args);
    if (afterKey !== null && !isUuid(afterKey)) throw badInput('after', 'Invalid cursor');
    const regionCode = args.regionCode ?? null;
    if (regionCode !== null && !isRegionCode(regionCode))
      throw badInput('regionCode', 'regionCode must be a 6-digit GB/T 2260 code');
    const occupation = args.occupation?.trim() || null;
    if (occupation !== null && [...occupation].length > 100)
      throw badInput('occupation', 'occupation must be at most 100 characters');
    const minPayFen = args.minPayFen ?? null;
    if (minPayFen !== null) fen('minPayFen', minPayFen);
    const rows = await this.postings.search({
      openOn: chinaToday(this.now()),
      regionPrefix: regionCode === null ? null : regionPrefix(regionCode),
      occupation,
      minPayFen,
      afterId: afterKey,
      limit,
    });
    return toConnection(rows, limit, (p) => p.id);
  }

  /** Staff holding careers:jobs:write publish postings inside their own region. */
  async publish(caller: Caller, input: PublishJobPostingInput): Promise<JobPostingRow> {
    requireCaller(caller, 'staff');
    requirePermission(caller, CAREERS_JOBS_WRITE);

    const title = text('title', input.title, 100);
    const employer = text('employer', input.employer, 100);
    const occupation = text('occupation', input.occupation, 100);
    if (!isRegionCode(input.regionCode))
      throw badInput('regionCode', 'regionCode must be a 6-digit GB/T 2260 code');
    const payMinFen = fen('payMinFen', input.payMinFen);
    const payMaxFen = fen('payMaxFen', input.payMaxFen);
    if (payMaxFen < payMinFen) throw badInput('payMaxFen', 'payMaxFen must not be less than payMinFen');
    if (!isCalendarDate(input.validUntil))
      throw badInput('validUntil', 'validUntil must be a date as YYYY-MM-DD');
    if (input.validUntil <= chinaToday(this.now()))
      throw badInput('validUntil', 'validUntil must be a future date');

    if (
      !caller.regionCode ||
      !isRegionCode(caller.regionCode) ||
      !inRegion(caller.regionCode, input.regionCode)
    ) {
      throw new DomainError(
        ErrorCode.FORBIDDEN,
        'You may only publish postings inside your region',
        'regionCode',
      );
    }

    // The posting and the recommendations it triggers for consenting people commit together.
    return this.ds.transaction(async (m) => {
      const posting = await this.postings.insert(
        {
          title,
          employer,
          occupation,
          requiredCertificateKind: input.requiredCertificateKind ?? null,
          requiredLevel: input.requiredLevel ?? null,
          regionCode: input.regionCode,
          payMinFen,
          payMaxFen,
          validUntil: input.validUntil,
          publishedBy: caller.id,
        },
        m,
      );
      await this.recommendations.refreshForPosting(m, posting.id);
      return posting;
    });
  }
}
