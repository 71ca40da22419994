import { DomainError } from '@vtv/kit';

/**
 * Domain error codes of the training subgraph, on top of the platform's (docs/errors.md). Each comes
 * back in a mutation payload's `errors` with a message naming what to do.
 */
export const TrainingErrorCode = {
  /** The institution has no enabled main operator (主经办人) yet; activation needs one. */
  MAIN_OPERATOR_REQUIRED: 'MAIN_OPERATOR_REQUIRED',
  /** Enrollment is closed: the class is not approved or has ended. */
  ENROLLMENT_CLOSED: 'ENROLLMENT_CLOSED',
  /** The class has as many trainees as its headcount. */
  CLASS_FULL: 'CLASS_FULL',
  ALREADY_ENROLLED: 'ALREADY_ENROLLED',
  /** The caller has no active enrollment in the class. */
  NOT_ENROLLED: 'NOT_ENROLLED',
  /** The institution has not yet checked the enrollee's identity (Art. 21). */
  IDENTITY_CHECK_PENDING: 'IDENTITY_CHECK_PENDING',
  /** Location check-in farther from the class location than the configured radius. */
  CHECKIN_OUT_OF_RANGE: 'CHECKIN_OUT_OF_RANGE',
  /** Check-in outside the session's check-in window. */
  CHECKIN_OUTSIDE_WINDOW: 'CHECKIN_OUTSIDE_WINDOW',
  /** Location check-in for an online class; use the class QR code instead. */
  CHECKIN_METHOD_NOT_ALLOWED: 'CHECKIN_METHOD_NOT_ALLOWED',
  ALREADY_CHECKED_IN: 'ALREADY_CHECKED_IN',
  /** A check-in QR code that is malformed or not signed by this platform. */
  QR_INVALID: 'QR_INVALID',
  /** A check-in QR code past its validity; scan a fresh one. */
  QR_EXPIRED: 'QR_EXPIRED',
  /** The class (or its last session) has not ended yet. */
  CLASS_NOT_ENDED: 'CLASS_NOT_ENDED',
  /** The trainee never checked in to the class, so cannot rate it. */
  NOT_ATTENDED: 'NOT_ATTENDED',
  ALREADY_EVALUATED: 'ALREADY_EVALUATED',
  COMPLETION_ALREADY_RECORDED: 'COMPLETION_ALREADY_RECORDED',
  /** Another change request of the institution awaits the bureau. */
  CHANGE_REQUEST_PENDING: 'CHANGE_REQUEST_PENDING',
} as const;

export const trainingError = (code: keyof typeof TrainingErrorCode, message: string, field?: string) =>
  new DomainError(TrainingErrorCode[code], message, field);
