/**
 * Permissions the training subgraph checks on staff (and integrator) callers. Roles in identity grant
 * them; training only reads `caller.permissions`. Operators (经办人) need none of these: their rights come
 * from their membership of an institution, which training owns.
 */
export const INSTITUTION_WRITE = 'training:institution:write';
export const CLASS_SUBMIT = 'training:class:submit';
export const CLASS_APPROVE = 'training:class:approve';
export const COMPLETION_REVIEW = 'training:completion:review';
export const TRAINING_READ = 'training:read';

export const TRAINING_PERMISSIONS = [
  INSTITUTION_WRITE,
  CLASS_SUBMIT,
  CLASS_APPROVE,
  COMPLETION_REVIEW,
  TRAINING_READ,
] as const;
export type TrainingPermission = (typeof TRAINING_PERMISSIONS)[number];

/** Any of these lets staff read an institution's internals (operators, rosters, enrollments) in their region. */
export const STAFF_READ_PERMISSIONS: readonly TrainingPermission[] = TRAINING_PERMISSIONS;
