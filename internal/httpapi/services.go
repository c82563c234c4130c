package httpapi

import (
	"github.com/casexchange/server/internal/analytics"
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/documents"
	"github.com/casexchange/server/internal/fees"
	"github.com/casexchange/server/internal/firms"
	"github.com/casexchange/server/internal/idempotency"
	"github.com/casexchange/server/internal/importer"
	"github.com/casexchange/server/internal/medical"
	"github.com/casexchange/server/internal/network"
	"github.com/casexchange/server/internal/notify"
	"github.com/casexchange/server/internal/refdata"
	"github.com/casexchange/server/internal/referrals"
	"github.com/casexchange/server/internal/routing"
	"github.com/casexchange/server/internal/users"
	"github.com/casexchange/server/internal/webhooks"
)

// Services are the domain services the strict methods call. Each domain adds its own field.
type Services struct {
	Auth      *auth.Service
	Firms     *firms.Service
	RefData   *refdata.Service
	Network   *network.Service
	Routing   *routing.Service
	Referrals *referrals.Service
	Users     *users.Service
	Notify    *notify.Service
	Documents *documents.Service
	Medical   *medical.Service
	Importer  *importer.Service

	Idempotency *idempotency.Service // outcomes of writes sent with an Idempotency-Key
	Webhooks    *webhooks.Service

	Analytics *analytics.Service
	Fees      *fees.Service // fee agreements, consent, ledger
}
