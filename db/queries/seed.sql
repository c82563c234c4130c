-- Scale seeding (internal/seed/scale.go): bulk copies of generated rows. sqlc checks their
-- column lists against the schema, so a renamed or dropped column fails `make generate`.

-- name: SeedFirmCopy :copyfrom
INSERT INTO firms (id, name, slug, city, state, country, jurisdictions, is_public,
                   reference_prefix, general_referral_instructions, created_at, updated_at)
VALUES (@id, @name, @slug, @city, @state, @country, @jurisdictions, @is_public,
        @reference_prefix, @general_referral_instructions, @created_at, @updated_at);

-- name: SeedNetworkRelationshipCopy :copyfrom
INSERT INTO network_relationships (id, from_firm_id, to_firm_id, status, sending_percentage,
                                   days_for_under_evaluation, days_for_investigating, requested_at, created_at, updated_at)
VALUES (@id, @from_firm_id, @to_firm_id, @status, @sending_percentage,
        @days_for_under_evaluation, @days_for_investigating, @requested_at, @created_at, @updated_at);

-- name: SeedRoutingRuleCopy :copyfrom
INSERT INTO routing_rules (id, firm_id, name, priority, is_active, conditions, created_at, updated_at)
VALUES (@id, @firm_id, @name, @priority, @is_active, @conditions, @created_at, @updated_at);

-- name: SeedRoutingRuleAssignmentCopy :copyfrom
INSERT INTO routing_rule_assignments (rule_id, position, recipient_type, firm_id, distribution_weight)
VALUES (@rule_id, @position, @recipient_type, @firm_id, @distribution_weight);

-- name: SeedBaseCaseCopy :copyfrom
INSERT INTO base_cases (id, owner_firm_id, reference_number, title, description, case_type_id,
                        jurisdiction_code, client_first_name, client_last_name, client_email, client_phone,
                        client_date_of_birth, incident_date, tier, is_retainer_signed, created_at, updated_at)
VALUES (@id, @owner_firm_id, @reference_number, @title, @description, @case_type_id,
        @jurisdiction_code, @client_first_name, @client_last_name, @client_email, @client_phone,
        @client_date_of_birth, @incident_date, @tier, @is_retainer_signed, @created_at, @updated_at);

-- name: SeedReferralCopy :copyfrom
INSERT INTO referrals (id, base_case_id, sequence_number, reference_number, referring_firm_id,
                       referent_firm_id, status, closing_status, notes, settlement_amount, is_retainer_signed,
                       sent_at, expires_at, acknowledged_at, last_activity_at, created_at, updated_at)
VALUES (@id, @base_case_id, @sequence_number, @reference_number, @referring_firm_id,
        @referent_firm_id, @status, @closing_status, @notes, @settlement_amount, @is_retainer_signed,
        @sent_at, @expires_at, @acknowledged_at, @last_activity_at, @created_at, @updated_at);

-- name: SeedStatusUpdateCopy :copyfrom
INSERT INTO status_updates (id, referral_id, base_case_id, referring_firm_id, referent_firm_id,
                            from_status, status, is_message, message, source, actor_firm_id, actor_kind,
                            actor_name, created_at)
VALUES (@id, @referral_id, @base_case_id, @referring_firm_id, @referent_firm_id,
        @from_status, @status, @is_message, @message, @source, @actor_firm_id, @actor_kind,
        @actor_name, @created_at);

-- name: SeedDocumentCopy :copyfrom
INSERT INTO documents (id, base_case_id, storage_key, file_name, mime_type, size_bytes,
                       is_public, uploaded_by_firm_id, uploaded_by, created_at)
VALUES (@id, @base_case_id, @storage_key, @file_name, @mime_type, @size_bytes,
        @is_public, @uploaded_by_firm_id, @uploaded_by, @created_at);
