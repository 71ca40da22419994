/**
 * The settlement permissions a staff role can carry. Staff act only inside their region subtree; every
 * check is "holds the permission" AND "the thing lies in the caller's region", and a miss on the second
 * looks exactly like "not found".
 */
export const SETTLEMENT_READ = 'settlement:read';
/** 补贴审核: first and final review of subsidy applications. */
export const SETTLEMENT_REVIEW = 'settlement:review';
/** 补贴拨付: record payments (moves money). */
export const SETTLEMENT_DISBURSE = 'settlement:disburse';
/** 补贴资金: allocate training-subsidy budgets. */
export const SETTLEMENT_BUDGET_WRITE = 'settlement:budget:write';
/** 补贴标准: maintain subsidy standards and the review rule per region. */
export const SETTLEMENT_STANDARDS_WRITE = 'settlement:standards:write';

export const SETTLEMENT_PERMISSIONS = [
  SETTLEMENT_READ,
  SETTLEMENT_REVIEW,
  SETTLEMENT_DISBURSE,
  SETTLEMENT_BUDGET_WRITE,
  SETTLEMENT_STANDARDS_WRITE,
] as const;
