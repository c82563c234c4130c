-- Firm user administration (Public API /users). Creation reuses UserCreate (auth.sql); every
-- query here is scoped to one firm, so another firm's user id matches nothing.

-- name: UserListByFirm :many
SELECT u.* FROM users u
WHERE u.firm_id = @firm_id
  AND (@search::text = '' OR u.first_name ILIKE '%' || @search::text || '%'
       OR u.last_name ILIKE '%' || @search::text || '%' OR u.email ILIKE '%' || @search::text || '%')
  AND (sqlc.narg(role)::text IS NULL OR u.role = upper(sqlc.narg(role)::text))
  AND (sqlc.narg(is_active)::bool IS NULL
       OR (u.is_active AND u.activation_state = 'active') = sqlc.narg(is_active)::bool)
ORDER BY lower(u.last_name), lower(u.first_name), u.id
LIMIT @max_rows OFFSET @skip_rows;

-- name: UserCountByFirm :one
SELECT count(*) FROM users u
WHERE u.firm_id = @firm_id
  AND (@search::text = '' OR u.first_name ILIKE '%' || @search::text || '%'
       OR u.last_name ILIKE '%' || @search::text || '%' OR u.email ILIKE '%' || @search::text || '%')
  AND (sqlc.narg(role)::text IS NULL OR u.role = upper(sqlc.narg(role)::text))
  AND (sqlc.narg(is_active)::bool IS NULL
       OR (u.is_active AND u.activation_state = 'active') = sqlc.narg(is_active)::bool);

-- name: UserGetInFirm :one
SELECT * FROM users WHERE id = @id AND firm_id = @firm_id;

-- UserLockInFirm reads a user for a change, holding its row lock until the transaction ends.
-- name: UserLockInFirm :one
SELECT * FROM users WHERE id = @id AND firm_id = @firm_id FOR UPDATE;

-- UserLockActiveFirmAdmins locks the firm's active administrators (in id order, so concurrent
-- callers queue instead of deadlocking). Two requests removing the last two administrators at
-- once are serialized here, and the second sees the first one's change.
-- name: UserLockActiveFirmAdmins :many
SELECT id FROM users
WHERE firm_id = @firm_id AND role = 'FIRM_ADMIN' AND is_active
ORDER BY id
FOR UPDATE;

-- UserUpdateProfile changes the fields given (NULL keeps the value).
-- name: UserUpdateProfile :one
UPDATE users SET
    first_name = coalesce(sqlc.narg(first_name)::text, first_name),
    last_name  = coalesce(sqlc.narg(last_name)::text, last_name),
    email      = coalesce(lower(sqlc.narg(email)::text), email),
    role       = coalesce(sqlc.narg(role)::text, role),
    updated_at = now()
WHERE id = @id AND firm_id = @firm_id
RETURNING *;

-- UserDeactivate switches a user off and cancels an unaccepted invitation.
-- name: UserDeactivate :one
UPDATE users SET
    is_active = false,
    invitation_token_hash = NULL,
    invitation_expires_at = NULL,
    updated_at = now()
WHERE id = @id AND firm_id = @firm_id
RETURNING *;

-- UserReactivate switches a user who once accepted an invitation back on.
-- name: UserReactivate :one
UPDATE users SET is_active = true, updated_at = now()
WHERE id = @id AND firm_id = @firm_id AND activation_state = 'active'
RETURNING *;

-- UserSetInvitation replaces the invitation token of a user who has not accepted yet.
-- name: UserSetInvitation :one
UPDATE users SET
    invitation_token_hash = @invitation_token_hash::text,
    invitation_expires_at = @invitation_expires_at::timestamptz,
    updated_at = now()
WHERE id = @id AND activation_state = 'invited'
RETURNING *;

-- UserAcceptInvitation completes an invitation: it sets the first password, activates the
-- account and burns the token. No row comes back for an unknown, used or expired token.
-- name: UserAcceptInvitation :one
UPDATE users SET
    password_hash = @password_hash::text,
    activation_state = 'active',
    is_active = true,
    invitation_accepted_token_hash = invitation_token_hash,
    invitation_token_hash = NULL,
    invitation_expires_at = NULL,
    password_changed_at = now(),
    updated_at = now()
WHERE invitation_token_hash = @invitation_token_hash::text
  AND invitation_expires_at > now()
  AND activation_state = 'invited'
  AND NOT undeliverable
  AND EXISTS (SELECT 1 FROM firms f WHERE f.id = users.firm_id AND f.is_active)
RETURNING *;

-- UserGetByInvitationToken finds the invitee of a token (used or not, expired or not), so the
-- password policy can check the chosen password against their address.
-- name: UserGetByInvitationToken :one
SELECT * FROM users WHERE invitation_token_hash = @invitation_token_hash::text;

-- UserEmailHolder returns the firm of the user who holds an address (the deliverable one), if any.
-- name: UserEmailHolder :one
SELECT firm_id FROM users WHERE email = lower(@email::text) AND NOT undeliverable;

-- UserCreateUndeliverable stores an invitation to an address that belongs to a user of another
-- firm. It looks like any invited user (with a token that is never sent) so that the inviting
-- firm cannot tell it apart; nobody can accept it or sign in with it.
-- name: UserCreateUndeliverable :one
INSERT INTO users (
    firm_id, email, first_name, last_name, role, is_active, activation_state,
    invitation_token_hash, invitation_expires_at, undeliverable
) VALUES (
    @firm_id, lower(@email::text), @first_name, @last_name, @role, false, 'invited',
    @invitation_token_hash::text, @invitation_expires_at::timestamptz, true
)
RETURNING *;

-- UserSetDeliverable records whether an invited user's address can receive the invitation,
-- after its address changed.
-- name: UserSetDeliverable :one
UPDATE users SET undeliverable = NOT @deliverable::bool, updated_at = now()
WHERE id = @id AND activation_state = 'invited'
RETURNING *;

-- UserGetByAcceptedInvitationToken finds the user an already used invitation token activated.
-- name: UserGetByAcceptedInvitationToken :one
SELECT * FROM users WHERE invitation_accepted_token_hash = @token_hash::text;

-- UserUpdateOwnProfile changes the name and phone of a user (the profile operations); NULL keeps
-- a name, clear_phone removes the phone.
-- name: UserUpdateOwnProfile :one
UPDATE users SET
    first_name = coalesce(sqlc.narg(first_name)::text, first_name),
    last_name  = coalesce(sqlc.narg(last_name)::text, last_name),
    phone      = CASE WHEN @set_phone::bool THEN sqlc.narg(phone)::text ELSE phone END,
    updated_at = now()
WHERE id = @id
RETURNING *;

-- Password resets. Only the SHA-256 of a reset token is stored; a new request replaces the
-- previous token, so only the newest link works.

-- name: UserSetResetToken :exec
UPDATE users SET password_reset_token_hash = @token_hash::text, password_reset_expires_at = @expires_at::timestamptz
WHERE id = @id;

-- UserGetByResetToken finds the user of a reset token, expired or not, with the firm's state.
-- name: UserGetByResetToken :one
SELECT u.*, f.is_active AS firm_is_active
FROM users u JOIN firms f ON f.id = u.firm_id
WHERE u.password_reset_token_hash = @token_hash::text;

-- UserResetPassword sets a new password with a live reset token and burns the token (and any
-- pending invitation). No row comes back when the token was used, replaced or expired meanwhile.
-- name: UserResetPassword :one
UPDATE users SET
    password_hash = @password_hash::text,
    password_reset_token_hash = NULL,
    password_reset_expires_at = NULL,
    password_changed_at = now(),
    updated_at = now()
WHERE id = @id AND password_reset_token_hash = @token_hash::text AND password_reset_expires_at > now()
  AND activation_state = 'active'
RETURNING *;

-- PasswordResetLockEmail and PasswordResetLockIP serialize the throttle decisions of one address
-- and of one client (taken in this order).
-- name: PasswordResetLockEmail :exec
SELECT pg_advisory_xact_lock(hashtextextended('password_reset:email:' || lower(@email::text), 0));

-- name: PasswordResetLockIP :exec
SELECT pg_advisory_xact_lock(hashtextextended('password_reset:ip:' || @ip::text, 0));

-- PasswordResetCounts counts the requests for an address and from a client since a moment, with
-- the oldest of each (now() when none) so the caller can say when a budget frees up.
-- name: PasswordResetCounts :one
WITH e AS (
    SELECT count(*) AS n, min(requested_at) AS oldest FROM password_reset_requests
    WHERE email = lower(@email::text) AND requested_at > @since::timestamptz
), i AS (
    SELECT count(*) AS n, min(requested_at) AS oldest FROM password_reset_requests
    WHERE ip = @ip::text AND requested_at > @since::timestamptz
)
SELECT e.n::int AS email_requests, coalesce(e.oldest, now())::timestamptz AS email_oldest,
       i.n::int AS ip_requests, coalesce(i.oldest, now())::timestamptz AS ip_oldest
FROM e, i;

-- name: PasswordResetRecord :exec
INSERT INTO password_reset_requests (email, ip) VALUES (lower(@email::text), @ip);

-- name: PasswordResetDeleteBefore :execrows
DELETE FROM password_reset_requests WHERE requested_at < @before;
