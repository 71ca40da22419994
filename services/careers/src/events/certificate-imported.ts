import { CertificateImportedSchema, CertificateKind as CertificateKindPb, on } from '@vtv/events';
import { DomainError, type Logger } from '@vtv/kit';
import type { CertificateKind } from '../data/entities';
import type { CertificateRepository } from '../data/repositories';
import { validateCertificate, type CertificateService } from '../services/certificates';
import { chinaToday } from '../services/dates';
import { parseLevel } from '../services/levels';
import { opt } from './helpers';

const KIND: Partial<Record<CertificateKindPb, CertificateKind>> = {
  [CertificateKindPb.TRAINING]: 'TRAINING',
  [CertificateKindPb.VOCATIONAL_QUALIFICATION]: 'VOCATIONAL_QUALIFICATION',
  [CertificateKindPb.SKILL_LEVEL]: 'SKILL_LEVEL',
};

/**
 * An integrator's CertificateImported → the certificate is recorded (with its archive entry, event and
 * recommendation refresh). A redelivery, or the same certificate imported again, changes nothing and is
 * not an error. Invalid content or the same issuer and number with different content is refused:
 * noted in certificate_import_rejections (no retries, no dead letter — retrying cannot fix it).
 * Who may publish to the topic is the broker's ACL; the integrator's region is not checked here.
 */
export function onCertificateImported(
  certificates: CertificateService,
  repository: CertificateRepository,
  logger: Logger,
  now: () => Date = () => new Date(),
) {
  return on(CertificateImportedSchema, async (e, { manager, event }) => {
    const rejection = {
      eventId: event.id,
      integratorId: opt(e.integratorId),
      importId: opt(e.importId),
      issuer: opt(e.issuer)?.slice(0, 200) ?? null,
      number: opt(e.number)?.slice(0, 100) ?? null,
    };
    const levelText = opt(e.level);
    const level = parseLevel(levelText);
    let valid;
    try {
      if (levelText !== null && level === null)
        throw new DomainError('BAD_USER_INPUT', 'Unknown skill level', 'level');
      valid = validateCertificate(
        {
          holderId: e.personId,
          regionCode: e.regionCode,
          kind: KIND[e.kind] as CertificateKind,
          occupation: e.occupation,
          level,
          issuer: e.issuer,
          number: e.number,
          issuedOn: e.issuedOn,
        },
        chinaToday(now()),
      );
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      await repository.reject(manager, {
        ...rejection,
        code: err.code,
        reason: `${err.field ?? 'input'}: ${err.message}`,
      });
      logger.warn({ eventId: event.id, code: err.code, field: err.field }, 'certificate import refused');
      return;
    }
    const outcome = await certificates.record(manager, valid, {
      source: 'EVENT',
      importedBy: opt(e.integratorId),
      eventId: event.id,
      actor: { actorKind: 'client', actorId: opt(e.integratorId) ?? 'unknown-integrator', actorRegion: null },
    });
    if (outcome.status === 'CONFLICT') {
      await repository.reject(manager, {
        ...rejection,
        code: 'CONFLICT',
        reason: `number: the issuer already recorded certificate ${outcome.certificate.id} with this number and different content`,
      });
      logger.warn(
        { eventId: event.id, certificateId: outcome.certificate.id },
        'certificate import refused: same issuer and number, different content',
      );
    } else if (outcome.status === 'ALREADY_RECORDED') {
      logger.info(
        { eventId: event.id, certificateId: outcome.certificate.id },
        'certificate already recorded',
      );
    }
  });
}
