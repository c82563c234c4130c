CREATE OR REPLACE FUNCTION base_cases_listing_ins_trg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- A new case has no referrals yet: only its owner sees it.
    PERFORM case_listings_refresh(array_agg(id), array_agg(owner_firm_id)) FROM new_rows;
    RETURN NULL;
END $$;
