package users

import (
	"github.com/casexchange/server/gen/db"
	"github.com/casexchange/server/internal/auth"
)

func userFromRow(r db.User) User {
	u := User{
		ID: r.ID, FirmID: r.FirmID, Email: r.Email, FirstName: r.FirstName, LastName: r.LastName,
		Role: auth.Role(r.Role), LastLoginAt: r.LastLoginAt, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
	u.Status, u.Active = status(r)
	return u
}

// status derives the life-cycle status: a user who never accepted is "invited" while the
// invitation stands and "deactivated" once it was cancelled; a user who accepted is "active"
// or "deactivated" by the administrative switch.
func status(r db.User) (Status, bool) {
	switch {
	case r.ActivationState != "active" && r.InvitationTokenHash != nil:
		return StatusInvited, false
	case r.ActivationState != "active":
		return StatusDeactivated, false
	case r.IsActive:
		return StatusActive, true
	default:
		return StatusDeactivated, false
	}
}
