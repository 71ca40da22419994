import { fromBinary, toJson } from '@bufbuild/protobuf';
import { SERVICES, allTopicSpecs, deadLetterTopic, schemaFor } from '../src';
import { catalogue, exampleFor, handWrittenExampleTypes } from '../src/catalogue';
import { scanEvent } from '../src/privacy';

const domain = allTopicSpecs().filter((t) => t.events.length > 0);

describe('event catalogue', () => {
  it('names topics <owning service>.<aggregate>.v<N> and defines their events in vtv.<service>.v<N>', () => {
    for (const t of domain) {
      const m = /^([a-z][a-z0-9_]*)\.[a-z][a-z0-9-]*\.v(\d+)$/.exec(t.name);
      expect(m).not.toBeNull();
      for (const e of t.events)
        expect(e.typeName).toMatch(new RegExp(`^vtv\\.${m![1]}\\.v${m![2]}\\.[A-Z]\\w*$`));
      // Platform topics are produced by the service that owns them; import topics by outside systems.
      if ((SERVICES as readonly string[]).includes(t.producer))
        expect(t.name.startsWith(`${t.producer}.`)).toBe(true);
    }
  });

  it('lists every event type on exactly one topic', () => {
    const types = domain.flatMap((t) => t.events.map((e) => e.typeName));
    expect(new Set(types).size).toBe(types.length);
  });

  it('has a dead-letter topic per service, carrying the topics that service consumes', () => {
    const dead = catalogue().filter((t) => t.deadLetter);
    expect(dead.map((t) => t.name).sort()).toEqual(SERVICES.map(deadLetterTopic).sort());
    const vouchers = dead.find((t) => t.name === deadLetterTopic('vouchers'))!;
    expect(vouchers.carries).toContain('training.class.v1');
  });

  it('has an example per event type that decodes back and carries no personal data', () => {
    for (const t of domain)
      for (const e of t.events) {
        const ex = exampleFor(e);
        expect(toJson(e, fromBinary(e, ex.binary), { alwaysEmitImplicit: true })).toEqual(ex.json);
        const findings = scanEvent(
          { type: e.typeName, key: ex.subject, data: ex.binary, headers: { ce_subject: ex.subject } },
          schemaFor,
        );
        expect({ type: e.typeName, findings }).toEqual({ type: e.typeName, findings: [] });
      }
  });

  it('hand-writes the examples of the original contracts', () => {
    const hand = new Set(handWrittenExampleTypes());
    for (const type of [
      'vtv.identity.v1.CardIssued',
      'vtv.training.v1.ClassPlanApproved',
      'vtv.vouchers.v1.VoucherStateChanged',
      'vtv.settlement.v1.SubsidyDisbursed',
      'vtv.careers.v1.CertificateRecorded',
    ])
      expect(hand.has(type)).toBe(true);
    // No stale examples for types that left the registry.
    for (const type of hand) expect(schemaFor(type)).toBeDefined();
  });
});
