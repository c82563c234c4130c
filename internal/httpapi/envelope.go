package httpapi

import (
	"context"
	"time"

	"github.com/casexchange/server/gen/api"
)

// meta returns the response meta for the request in ctx.
func meta(ctx context.Context) api.ResponseMeta {
	return api.ResponseMeta{RequestId: RequestIDFrom(ctx), Timestamp: time.Now().UTC()}
}

// maxPage caps page numbers: with at most 100 items a page, a page past it is empty for any
// list this server holds, and the offset it implies still fits the database's int4 arithmetic.
const maxPage = 1_000_000

// pageParams applies the contract's defaults (page 1, limit 20).
func pageParams(page, limit *int) (int, int) {
	p, l := 1, 20
	if page != nil && *page > 0 {
		p = min(*page, maxPage)
	}
	if limit != nil && *limit > 0 {
		l = *limit
	}
	return p, l
}

// pagination builds the pagination block for total items.
func pagination(page, limit int, total int64) api.Pagination {
	pages := 0
	if limit > 0 {
		pages = int((total + int64(limit) - 1) / int64(limit))
	}
	return api.Pagination{Page: page, Limit: limit, Total: int(total), TotalPages: pages}
}
