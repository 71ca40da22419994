import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A general-voucher claim as one statement. Run outside an explicit transaction, the template row's
 * lock (the claim counter every claimer of a template updates) is held only while PostgreSQL itself
 * runs the function and commits — not across client round trips, which under a flash crowd made the
 * claims of a template queue behind each other's network hops (about 65 a second on the bench machine).
 *
 * Everything or nothing: the idempotency key (when given), the voucher, the counter, the issue
 * transition and the VoucherIssued outbox row. Refusals are raised, which undoes what ran before them:
 *   VC001  the person already holds a voucher of this template
 *   VC002  no stock left, or the template is closed / outside its claim window
 *   VC003  the idempotency key is already recorded (the caller reads the stored result)
 * Rows come in as JSON built by the repository's own column lists; adding a column to any of the four
 * tables this writes means a new version of the function.
 */
export class ClaimFunction1732200000400 implements MigrationInterface {
  name = 'ClaimFunction1732200000400';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION claim_general_voucher(
        p_template uuid, p_at timestamptz, p_voucher jsonb, p_transition jsonb, p_outbox jsonb,
        p_idem_scope text, p_idem_key text, p_idem_hash text
      ) RETURNS SETOF vouchers LANGUAGE plpgsql AS $fn$
      DECLARE
        v vouchers;
      BEGIN
        PERFORM set_config('lock_timeout', '5s', true);
        IF p_idem_key IS NOT NULL THEN
          INSERT INTO idempotency_keys (scope, key, request_hash, response)
          VALUES (p_idem_scope, p_idem_key, p_idem_hash, jsonb_build_object('value', p_voucher->>'id'))
          ON CONFLICT DO NOTHING;
          IF NOT FOUND THEN
            RAISE EXCEPTION 'idempotency key already recorded' USING ERRCODE = 'VC003';
          END IF;
        END IF;

        INSERT INTO vouchers (id, holder_person_id, region_code, state, kind, batch_id, template_id,
            class_id, institution_id, function_mode, business_mode, face_value_fen, training_type,
            occupation, certificate_level, code_digest, code_hint, issued_at, valid_from, valid_until)
        SELECT id, holder_person_id, region_code, state, kind, batch_id, template_id, class_id,
            institution_id, function_mode, business_mode, face_value_fen, training_type, occupation,
            certificate_level, code_digest, code_hint, issued_at, valid_from, valid_until
        FROM jsonb_populate_record(NULL::vouchers, p_voucher)
        ON CONFLICT (template_id, holder_person_id) WHERE template_id IS NOT NULL DO NOTHING
        RETURNING * INTO v;
        IF NOT FOUND THEN
          RAISE EXCEPTION 'already claimed' USING ERRCODE = 'VC001';
        END IF;

        UPDATE voucher_templates SET claimed = claimed + 1
        WHERE id = p_template AND state = 'ACTIVE' AND claimed < quantity
          AND claim_starts_at <= p_at AND claim_ends_at > p_at;
        IF NOT FOUND THEN
          RAISE EXCEPTION 'no stock left or claim window closed' USING ERRCODE = 'VC002';
        END IF;

        INSERT INTO voucher_transitions (id, voucher_id, from_state, to_state, at, actor_kind, actor_id,
            reason, region_code, kind, training_type, function_mode, face_value_fen, institution_id,
            class_id, enrollment_id, batch_id, template_id, disbursement_id)
        SELECT id, voucher_id, from_state, to_state, at, actor_kind, actor_id, reason, region_code, kind,
            training_type, function_mode, face_value_fen, institution_id, class_id, enrollment_id,
            batch_id, template_id, disbursement_id
        FROM jsonb_populate_record(NULL::voucher_transitions, p_transition);

        INSERT INTO outbox (id, topic, key, type, subject, payload, headers)
        SELECT id, topic, key, type, subject, payload, headers
        FROM jsonb_populate_record(NULL::outbox, p_outbox);

        RETURN NEXT v;
      END
      $fn$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      'DROP FUNCTION claim_general_voucher(uuid, timestamptz, jsonb, jsonb, jsonb, text, text, text)',
    );
  }
}
