package notify

import (
	"github.com/casexchange/server/gen/db"
)

func preferencesFromRow(r db.NotificationPreference) Preferences {
	at := r.UpdatedAt
	return Preferences{
		NewReferral:    r.EmailOnNewReferral,
		StatusChange:   r.EmailOnStatusChange,
		DocumentUpload: r.EmailOnDocumentUpload,
		UpdatedAt:      &at,
	}
}

func recipientFromRow(r db.NotificationEmail) Recipient {
	return Recipient{ID: r.ID, Email: r.Email, CreatedAt: r.CreatedAt}
}
