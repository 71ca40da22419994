/**
 * Permissions the careers subgraph checks. Staff and machine clients (integrators) get them through
 * their roles in identity; the gateway forwards them in the signed caller.
 */
export const CareersPermission = {
  /** 证书与培训档案查询: staff read certificates and training archives inside their region (logged). */
  READ: 'careers:read',
  /** 岗位发布: staff publish job postings inside their region. */
  JOBS_WRITE: 'careers:jobs:write',
  /** 证书导入: integrators (clients) or staff import certificates issued inside their region. */
  CERTIFICATES_IMPORT: 'careers:certificates:import',
} as const;
export type CareersPermission = (typeof CareersPermission)[keyof typeof CareersPermission];

export const CAREERS_READ = CareersPermission.READ;
export const CAREERS_JOBS_WRITE = CareersPermission.JOBS_WRITE;
export const CAREERS_CERTIFICATES_IMPORT = CareersPermission.CERTIFICATES_IMPORT;
