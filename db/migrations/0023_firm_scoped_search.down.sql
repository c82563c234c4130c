DROP INDEX referrals_reference_trgm_idx;
CREATE INDEX referrals_reference_trgm_idx ON referrals USING gin (lower(reference_number) gin_trgm_ops);

DROP INDEX case_listings_search_idx;
CREATE INDEX case_listings_search_idx ON case_listings USING gin (search_text gin_trgm_ops);

-- btree_gin stays: dropping an extension is not this migration's to decide.
