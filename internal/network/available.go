package network

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/apperr"
	"github.com/casexchange/server/internal/keyset"
	"github.com/casexchange/server/internal/postgres"
)

// Sources of an available firm, and the values of the source filter.
const (
	SourceNetwork   = "private_network"
	SourceDirectory = "public_directory"
	SourceBoth      = "both"

	FilterNetwork   = "network"
	FilterDirectory = "directory"
)

// Paging of Available.
const (
	DefaultAvailableLimit = 25
	MaxAvailableLimit     = 100
	maxPage               = 1_000_000
	maxSearch             = 200
)

// AvailableQuery filters the firms a firm may refer to. Zero values mean no filter; Page 0 is
// page 1 and Limit 0 is DefaultAvailableLimit.
type AvailableQuery struct {
	Source       string // "", FilterNetwork or FilterDirectory
	Search       string // part of the name, any case
	Jurisdiction string // two-letter code, any case
	CaseType     string // id, machine name or display name
	Page         int
	Limit        int
	Cursor       string // a nextCursor of an earlier page of the same query; replaces Page
}

// AvailableFirm is a firm the caller may refer to.
type AvailableFirm struct {
	ID                   uuid.UUID
	Name                 string
	Description          *string
	Jurisdictions        []string
	CaseTypes            []string
	ReferralInstructions *string // the relationship's when set, else the firm's general ones
	Source               string  // SourceNetwork, SourceDirectory or SourceBoth
}

// AvailablePage is one page of available firms and the number of matches over all pages.
type AvailablePage struct {
	Firms      []AvailableFirm
	Page       int
	Limit      int
	Total      int
	NextCursor *string // the page after this one; nil on the last page
}

// Available lists, by name, the active firms firm may refer to: those with an active outbound
// relationship and those listed in the directory, each once. A jurisdiction or case type that
// names nothing matches no firm. Errors: ErrValidation naming query.page, query.limit,
// query.search, query.source or query.cursor.
func (s *Service) Available(ctx context.Context, firm uuid.UUID, in AvailableQuery) (AvailablePage, error) {
	if in.Page == 0 {
		in.Page = 1
	}
	if in.Limit == 0 {
		in.Limit = DefaultAvailableLimit
	}
	var details []apperr.FieldError
	bad := func(field, msg string) { details = append(details, apperr.FieldError{Field: field, Message: msg}) }
	if in.Page < 1 || in.Page > maxPage {
		bad("query.page", fmt.Sprintf("must be between 1 and %d", maxPage))
	}
	if in.Limit < 1 || in.Limit > MaxAvailableLimit {
		bad("query.limit", fmt.Sprintf("must be between 1 and %d", MaxAvailableLimit))
	}
	if in.Source != "" && in.Source != FilterNetwork && in.Source != FilterDirectory {
		bad("query.source", "must be network or directory")
	}
	search := strings.TrimSpace(in.Search)
	if utf8.RuneCountInString(search) > maxSearch {
		bad("query.search", fmt.Sprintf("must be at most %d characters", maxSearch))
	}
	p := db.AvailableFirmListParams{
		FirmID:    firm,
		Source:    in.Source,
		Search:    likePattern(search),
		RowLimit:  int32(in.Limit + 1), // one more tells whether a next page exists
		RowOffset: int32((in.Page - 1) * in.Limit),
	}
	// Unknown jurisdictions and case types match no firm, as in the firm directory.
	p.Jurisdiction = strings.ToUpper(strings.TrimSpace(in.Jurisdiction))
	unknownCaseType := false
	if c := strings.TrimSpace(in.CaseType); c != "" {
		ct, err := s.refdata.ResolveCaseType(ctx, c)
		switch {
		case errors.Is(err, apperr.ErrNotFound):
			unknownCaseType = true
		case err != nil:
			return AvailablePage{}, err
		default:
			p.CaseTypeID = &ct.ID
		}
	}
	if len(details) > 0 {
		return AvailablePage{}, apperr.Validation("", details...)
	}
	fp := keyset.Fingerprint("firms-available", p.Source, p.Search, p.Jurisdiction, strings.TrimSpace(in.CaseType), in.Limit)
	if in.Cursor != "" {
		c, err := keyset.Decode(in.Cursor, fp, "query.cursor")
		if err != nil {
			return AvailablePage{}, err
		}
		id, err := uuid.Parse(c.ID)
		if err != nil {
			return AvailablePage{}, apperr.Field("query.cursor", "is not a cursor returned by this list")
		}
		p.AfterName, p.AfterID, p.RowOffset, in.Page = &c.Key, &id, 0, c.Page
	}
	if unknownCaseType {
		return AvailablePage{Firms: []AvailableFirm{}, Page: in.Page, Limit: in.Limit}, nil
	}

	q := db.New(s.pool)
	rows, err := q.AvailableFirmList(ctx, p)
	if err != nil {
		return AvailablePage{}, fmt.Errorf("list available firms: %w", postgres.InterpretError(err))
	}
	out := AvailablePage{Firms: make([]AvailableFirm, 0, len(rows)), Page: in.Page, Limit: in.Limit}
	if len(rows) > in.Limit {
		rows = rows[:in.Limit]
		last := rows[len(rows)-1]
		next := keyset.Encode(keyset.Cursor{F: fp, Key: strings.ToLower(last.Name), ID: last.ID.String(), Page: in.Page + 1})
		out.NextCursor = &next
	}
	for _, r := range rows {
		out.Total = int(r.Total)
		src := SourceDirectory
		switch {
		case r.InNetwork && r.InDirectory:
			src = SourceBoth
		case r.InNetwork:
			src = SourceNetwork
		}
		out.Firms = append(out.Firms, AvailableFirm{
			ID:                   r.ID,
			Name:                 r.Name,
			Description:          r.Description,
			Jurisdictions:        orEmpty(r.Jurisdictions),
			CaseTypes:            orEmpty(r.CaseTypeLabels),
			ReferralInstructions: r.ReferralInstructions,
			Source:               src,
		})
	}
	// A page past the end carries no total, and a cursor page counts only what follows the
	// cursor: count separately.
	if (len(rows) == 0 && p.RowOffset > 0) || p.AfterName != nil {
		n, err := q.AvailableFirmCount(ctx, db.AvailableFirmCountParams{
			FirmID: p.FirmID, Source: p.Source, Search: p.Search, Jurisdiction: p.Jurisdiction, CaseTypeID: p.CaseTypeID,
		})
		if err != nil {
			return AvailablePage{}, fmt.Errorf("count available firms: %w", postgres.InterpretError(err))
		}
		out.Total = int(n)
	}
	return out, nil
}

// likePattern turns a search term into an ILIKE pattern matching names that contain it, with
// the LIKE metacharacters escaped; a blank term gives "", which the query reads as no filter.
func likePattern(search string) string {
	if search == "" {
		return ""
	}
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(search) + "%"
}
