-- Notification preferences and recipients of a firm.

-- name: NotificationPreferencesGet :one
SELECT * FROM notification_preferences WHERE firm_id = @firm_id;

-- NotificationPreferencesUpsert sets the switches given (NULL keeps the stored value, or the
-- default true for a firm without a row).
-- name: NotificationPreferencesUpsert :one
INSERT INTO notification_preferences AS p (firm_id, email_on_new_referral, email_on_status_change, email_on_document_upload)
VALUES (@firm_id, coalesce(sqlc.narg(new_referral)::bool, true), coalesce(sqlc.narg(status_change)::bool, true),
        coalesce(sqlc.narg(document_upload)::bool, true))
ON CONFLICT (firm_id) DO UPDATE SET
    email_on_new_referral = coalesce(sqlc.narg(new_referral)::bool, p.email_on_new_referral),
    email_on_status_change = coalesce(sqlc.narg(status_change)::bool, p.email_on_status_change),
    email_on_document_upload = coalesce(sqlc.narg(document_upload)::bool, p.email_on_document_upload),
    updated_at = now()
RETURNING *;

-- name: NotificationEmailListByFirm :many
SELECT * FROM notification_emails WHERE firm_id = @firm_id ORDER BY created_at, id;

-- name: NotificationEmailGetByAddress :one
SELECT * FROM notification_emails WHERE firm_id = @firm_id AND email = lower(@email::text);

-- name: NotificationEmailCountByFirm :one
SELECT count(*) FROM notification_emails WHERE firm_id = @firm_id;

-- NotificationEmailLockFirm serializes additions to one firm's list for the rest of the
-- transaction, so the count checked against the limit stays true until the insert.
-- name: NotificationEmailLockFirm :exec
SELECT pg_advisory_xact_lock(hashtextextended('notification_emails:' || (@firm_id::uuid)::text, 0));

-- name: NotificationEmailCreate :one
INSERT INTO notification_emails (firm_id, email) VALUES (@firm_id, lower(@email::text))
RETURNING *;

-- UserFirmAdminEmails lists the addresses of a firm's active administrators: the recipients
-- while the firm's own list is empty. An inactive firm gets nothing.
-- name: UserFirmAdminEmails :many
SELECT u.email FROM users u JOIN firms f ON f.id = u.firm_id
WHERE u.firm_id = @firm_id AND u.role = 'FIRM_ADMIN' AND u.is_active
  AND u.activation_state = 'active' AND f.is_active
ORDER BY u.email;
