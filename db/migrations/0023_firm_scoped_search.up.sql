-- Searches are always scoped to one firm, but the trigram indexes were global: every search read
-- the posting lists of its trigrams across all firms, so a small firm's search cost as much as
-- the largest firm's, and both grew with the whole installation. btree_gin lets the firm column
-- lead the GIN index, so the scan intersects the trigram entries with the firm's own entry.
-- A short pending list keeps the entries written since the last cleanup (which every scan
-- reads in full) to at most 64 pages.
CREATE EXTENSION IF NOT EXISTS btree_gin;

DROP INDEX case_listings_search_idx;
CREATE INDEX case_listings_search_idx ON case_listings
    USING gin (firm_id, search_text gin_trgm_ops) WITH (gin_pending_list_limit = 512);

DROP INDEX referrals_reference_trgm_idx;
CREATE INDEX referrals_reference_trgm_idx ON referrals
    USING gin (referent_firm_id, lower(reference_number) gin_trgm_ops) WITH (gin_pending_list_limit = 512)
    WHERE status <> 'draft';
