-- A case created through the API is usually referred in the same transaction: its owner listing
-- was written at the insert, then rewritten at commit once the referral's deferred refresh ran
-- (two versions of the row and of its eleven index entries, the trigram index's included).
-- Small inserts now note the owner's pair in case_listings_pending like every other change, so
-- the listing is written once, at commit. Bulk inserts (imports, seeders: more than 64 cases in
-- one statement) still write their listings at once, in one set-based statement.
CREATE OR REPLACE FUNCTION base_cases_listing_ins_trg() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cs uuid[];
    fs uuid[];
BEGIN
    SELECT array_agg(id), array_agg(owner_firm_id) INTO cs, fs FROM new_rows;
    IF cardinality(cs) <= 64 THEN
        PERFORM case_listings_defer(cs, fs);
    ELSE
        PERFORM case_listings_refresh(cs, fs);
    END IF;
    RETURN NULL;
END $$;
