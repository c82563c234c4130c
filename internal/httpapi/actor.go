package httpapi

import (
	"context"

	"github.com/google/uuid"

	"github.com/casexchange/server/internal/auth"
	"github.com/casexchange/server/internal/referrals"
)

// actorOf is the caller as every domain service takes it: its firm, key or user, and the
// source recorded on history rows ("manual" for a signed-in user without a key, else "api").
// Without a principal it is the zero Actor.
func actorOf(ctx context.Context) auth.Actor {
	p := PrincipalFrom(ctx)
	if p == nil {
		return auth.Actor{}
	}
	a := auth.Actor{FirmID: p.FirmID, Source: referrals.SourceAPI}
	if p.KeyID != uuid.Nil {
		k := p.KeyID
		a.KeyID = &k
	}
	if p.UserID != uuid.Nil {
		u := p.UserID
		a.UserID = &u
		if p.KeyID == uuid.Nil {
			a.Source = referrals.SourceManual
		}
	}
	return a
}

// requireActor is actorOf for operations that need an authenticated caller.
func requireActor(ctx context.Context) (auth.Actor, error) {
	if _, err := requirePrincipal(ctx); err != nil {
		return auth.Actor{}, err
	}
	return actorOf(ctx), nil
}

// importActor records imported rows with source "api" whoever sends the file.
func importActor(ctx context.Context) (auth.Actor, error) {
	a, err := requireActor(ctx)
	a.Source = referrals.SourceAPI
	return a, err
}
