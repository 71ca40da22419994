/**
 * The platform's permission catalogue: every permission a role (角色) can hold, in one place. Roles are
 * named sets of these; staff tokens carry the union of their roles' permissions; services check them
 * with `requirePermission`. A permission not listed here cannot be granted.
 */
export const Permission = {
  /** 人员查询: read people (masked) in one's region subtree. */
  PERSON_READ: 'person:read',
  /** 查看完整身份证号: reveal a full ID number (audited). */
  PERSON_REVEAL: 'person:reveal',
  /** 签发电子社保卡: issue an e-SSC on someone's behalf (counters, issuance channels). */
  PERSON_CARD_ISSUE: 'person:card:issue',

  /** 培训券发放: rules, batches and issuance. */
  VOUCHERS_ISSUE: 'vouchers:issue',
  /** 培训券查询. */
  VOUCHERS_READ: 'vouchers:read',
  /** 面值券规则、发券规则设置. */
  VOUCHERS_RULES_WRITE: 'vouchers:rules:write',
  /** 培训券审核 (初审、复审). */
  VOUCHERS_REVIEW: 'vouchers:review',
  /** 设置失效. */
  VOUCHERS_INVALIDATE: 'vouchers:invalidate',
  /** 统计查询. */
  VOUCHERS_STATISTICS: 'vouchers:statistics',
  /** 年度指标设置. */
  VOUCHERS_QUOTAS_WRITE: 'vouchers:quotas:write',

  /** 培训机构管理. */
  TRAINING_INSTITUTION_WRITE: 'training:institution:write',
  /** 开班申报. */
  TRAINING_CLASS_SUBMIT: 'training:class:submit',
  /** 开班审核. */
  TRAINING_CLASS_APPROVE: 'training:class:approve',
  /** 结业审核. */
  TRAINING_COMPLETION_REVIEW: 'training:completion:review',
  /** 培训记录查询 (报名、签到). */
  TRAINING_READ: 'training:read',

  /** 补贴结算查询. */
  SETTLEMENT_READ: 'settlement:read',
  /** 补贴审核: first and final review of subsidy applications. */
  SETTLEMENT_REVIEW: 'settlement:review',
  /** 补贴拨付: record payments of approved applications. */
  SETTLEMENT_DISBURSE: 'settlement:disburse',
  /** 补贴资金: allocate training-subsidy budgets. */
  SETTLEMENT_BUDGET_WRITE: 'settlement:budget:write',
  /** 补贴标准: subsidy standards and the review rule per region. */
  SETTLEMENT_STANDARDS_WRITE: 'settlement:standards:write',

  /** 证书与档案查询. */
  CAREERS_READ: 'careers:read',
  /** 岗位发布. */
  CAREERS_JOBS_WRITE: 'careers:jobs:write',
  /** 证书导入 (接入方). */
  CAREERS_CERTIFICATES_IMPORT: 'careers:certificates:import',

  /** 机构管理: departments (科室) of a bureau. */
  ADMIN_DEPARTMENTS_WRITE: 'admin:departments:write',
  /** 角色管理: roles and their permissions. */
  ADMIN_ROLES_WRITE: 'admin:roles:write',
  /** 用户管理 (read). */
  ADMIN_USERS_READ: 'admin:users:read',
  /** 用户管理: create staff users, configure their roles, enable/disable them. */
  ADMIN_USERS_WRITE: 'admin:users:write',
  /** 接入方管理: machine clients for integrators. */
  ADMIN_CLIENTS_WRITE: 'admin:clients:write',
  /** 密钥轮换: re-encrypt personal data under the newest key. */
  ADMIN_KEYS_ROTATE: 'admin:keys:rotate',
  /** 审计日志查询. */
  AUDIT_READ: 'audit:read',
} as const;
export type Permission = (typeof Permission)[keyof typeof Permission];

export interface PermissionSpec {
  name: Permission;
  /** The console module (模块) the permission belongs to. */
  module: string;
  description: string;
  /** Administration permissions are for people only: machine clients can never hold them. */
  staffOnly: boolean;
}

const spec = (name: Permission, module: string, description: string, staffOnly = false): PermissionSpec => ({
  name,
  module,
  description,
  staffOnly,
});

export const PERMISSION_CATALOGUE: readonly PermissionSpec[] = Object.freeze([
  spec(Permission.PERSON_READ, '人员管理', '查询本辖区人员（脱敏）'),
  spec(Permission.PERSON_REVEAL, '人员管理', '查看完整身份证号（留痕审计）', true),
  spec(Permission.PERSON_CARD_ISSUE, '人员管理', '签发电子社保卡'),
  spec(Permission.VOUCHERS_ISSUE, '培训券管理', '发券规则、发券批次与发放'),
  spec(Permission.VOUCHERS_READ, '培训券管理', '培训券记录查询'),
  spec(Permission.VOUCHERS_RULES_WRITE, '培训券管理', '面值券规则与发券规则设置', true),
  spec(Permission.VOUCHERS_REVIEW, '培训券管理', '发券批次审核（初审、复审）', true),
  spec(Permission.VOUCHERS_INVALIDATE, '培训券管理', '设置失效（批次或单张）', true),
  spec(Permission.VOUCHERS_STATISTICS, '培训券管理', '培训券统计查询'),
  spec(Permission.VOUCHERS_QUOTAS_WRITE, '培训券管理', '年度发券、用券指标设置', true),
  spec(Permission.TRAINING_INSTITUTION_WRITE, '培训管理', '培训机构管理'),
  spec(Permission.TRAINING_CLASS_SUBMIT, '培训管理', '开班方案申报'),
  spec(Permission.TRAINING_CLASS_APPROVE, '培训管理', '开班审核'),
  spec(Permission.TRAINING_COMPLETION_REVIEW, '培训管理', '结业审核', true),
  spec(Permission.TRAINING_READ, '培训管理', '报名与签到记录查询'),
  spec(Permission.SETTLEMENT_READ, '补贴结算', '补贴申请与拨付查询'),
  spec(Permission.SETTLEMENT_REVIEW, '补贴结算', '补贴申请审核（初审、复审）', true),
  spec(Permission.SETTLEMENT_DISBURSE, '补贴结算', '补贴拨付（核销培训券）', true),
  spec(Permission.SETTLEMENT_BUDGET_WRITE, '补贴结算', '培训补贴资金下达', true),
  spec(Permission.SETTLEMENT_STANDARDS_WRITE, '补贴结算', '补贴标准与审核方式设置', true),
  spec(Permission.CAREERS_READ, '就业服务', '证书与培训档案查询'),
  spec(Permission.CAREERS_JOBS_WRITE, '就业服务', '岗位发布'),
  spec(Permission.CAREERS_CERTIFICATES_IMPORT, '就业服务', '证书导入（接入方）'),
  spec(Permission.ADMIN_DEPARTMENTS_WRITE, '系统管理', '机构（科室）管理', true),
  spec(Permission.ADMIN_ROLES_WRITE, '系统管理', '角色管理与分配权限', true),
  spec(Permission.ADMIN_USERS_READ, '系统管理', '用户（人社经办）查询', true),
  spec(Permission.ADMIN_USERS_WRITE, '系统管理', '用户管理、配置角色、启用停用', true),
  spec(Permission.ADMIN_CLIENTS_WRITE, '系统管理', '接入方（机器客户端）管理', true),
  spec(Permission.ADMIN_KEYS_ROTATE, '系统管理', '个人信息加密密钥轮换', true),
  spec(Permission.AUDIT_READ, '系统管理', '审计日志查询', true),
]);

const NAMES = new Set<string>(PERMISSION_CATALOGUE.map((p) => p.name));

export function isPermission(value: string): value is Permission {
  return NAMES.has(value);
}

export const ALL_PERMISSIONS: readonly Permission[] = Object.freeze(PERMISSION_CATALOGUE.map((p) => p.name));
