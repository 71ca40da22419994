/**
 * Permissions the vouchers subgraph checks (granted to staff through identity's roles, e.g. a "发券经办"
 * role holding the issuance ones). Staff act only inside their region subtree.
 */
/** 发券: create and submit batches, issue, supplementary issuance, templates, link national templates. */
export const VOUCHERS_ISSUE = 'vouchers:issue';
/** 培训券记录查询: read vouchers, batches, templates and the awaiting-issuance list. */
export const VOUCHERS_READ = 'vouchers:read';
/** 面值券规则 / 发券规则配置. */
export const VOUCHERS_RULES_WRITE = 'vouchers:rules:write';
/** 培训券审核: single review, first and second review (by different people). */
export const VOUCHERS_REVIEW = 'vouchers:review';
/** 设置失效: invalidate a batch or a voucher (irreversible). */
export const VOUCHERS_INVALIDATE = 'vouchers:invalidate';
/** 查询统计: statistics and quotas. */
export const VOUCHERS_STATISTICS = 'vouchers:statistics';
/** 目标任务: set the yearly issue/use targets of a region. */
export const VOUCHERS_QUOTAS_WRITE = 'vouchers:quotas:write';

export const VOUCHER_PERMISSIONS = [
  VOUCHERS_ISSUE,
  VOUCHERS_READ,
  VOUCHERS_RULES_WRITE,
  VOUCHERS_REVIEW,
  VOUCHERS_INVALIDATE,
  VOUCHERS_STATISTICS,
  VOUCHERS_QUOTAS_WRITE,
] as const;
