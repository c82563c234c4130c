package httpapi

import (
	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/firms"
	"github.com/casexchange/server/internal/network"
	"github.com/casexchange/server/internal/refdata"
	"github.com/casexchange/server/internal/routing"
)

// Services are the domain services the strict methods call. Each domain adds its own field.
type Services struct {
	Auth    *auth.Service
	Firms   *firms.Service
	RefData *refdata.Service
	Network *network.Service
	Routing *routing.Service
}
