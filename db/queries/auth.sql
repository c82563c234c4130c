-- Users, as the login flow needs them. The firm's name and status ride along because every
-- login and refresh answers with them.

-- UserGetByEmail finds the one user who may sign in with an address; undeliverable
-- invitations (users.undeliverable) at other firms share it but never sign in.
-- name: UserGetByEmail :one
SELECT u.*, f.name AS firm_name, f.is_active AS firm_is_active
FROM users u JOIN firms f ON f.id = u.firm_id
WHERE u.email = lower(@email::text) AND NOT u.undeliverable;

-- name: UserGetByID :one
SELECT u.*, f.name AS firm_name, f.is_active AS firm_is_active
FROM users u JOIN firms f ON f.id = u.firm_id
WHERE u.id = @id;

-- UserCreate inserts a user. Seeds and the CLI pass a password hash and activation_state
-- 'active'; invitations pass no hash and 'invited'.
-- name: UserCreate :one
INSERT INTO users (
    firm_id, email, first_name, last_name, role, password_hash, is_active, activation_state,
    invitation_token_hash, invitation_expires_at, password_changed_at
) VALUES (
    @firm_id, lower(@email::text), @first_name, @last_name, @role, sqlc.narg(password_hash), @is_active,
    @activation_state, sqlc.narg(invitation_token_hash), sqlc.narg(invitation_expires_at),
    CASE WHEN sqlc.narg(password_hash)::text IS NULL THEN NULL ELSE now() END
)
RETURNING *;

-- UserSetPassword stores a new hash. Setting a password completes an invitation, so it also
-- activates the account and burns outstanding invitation and reset tokens.
-- name: UserSetPassword :one
UPDATE users SET
    password_hash = @password_hash::text,
    activation_state = 'active',
    invitation_token_hash = NULL,
    invitation_expires_at = NULL,
    password_reset_token_hash = NULL,
    password_reset_expires_at = NULL,
    password_changed_at = now(),
    updated_at = now()
WHERE id = @id
RETURNING *;

-- name: UserTouchLogin :exec
UPDATE users SET last_login_at = now() WHERE id = @id;

-- Sessions (one row per refresh token).

-- name: SessionCreate :one
INSERT INTO auth_sessions (id, user_id, family_id, parent_id, refresh_token_hash, expires_at, user_agent, ip)
VALUES (@id, @user_id, @family_id, sqlc.narg(parent_id), @refresh_token_hash, @expires_at,
        sqlc.narg(user_agent), sqlc.narg(ip))
RETURNING *;

-- name: SessionGetByTokenHash :one
SELECT * FROM auth_sessions WHERE refresh_token_hash = @refresh_token_hash;

-- SessionRotate marks a live token as used. It is a compare-and-set: no row comes back when the
-- token was already rotated, revoked or expired, which is how two racing refreshes are told apart.
-- name: SessionRotate :one
UPDATE auth_sessions SET rotated_at = now(), last_used_at = now()
WHERE id = @id AND rotated_at IS NULL AND revoked_at IS NULL AND expires_at > now()
RETURNING *;

-- name: SessionRevokeFamily :execrows
UPDATE auth_sessions SET revoked_at = now(), revoke_reason = @reason::text
WHERE family_id = @family_id AND revoked_at IS NULL;

-- SessionRevoke ends one session (a whole family) of one user; other users' ids match nothing.
-- name: SessionRevoke :execrows
UPDATE auth_sessions SET revoked_at = now(), revoke_reason = @reason::text
WHERE family_id = @family_id AND user_id = @user_id AND revoked_at IS NULL;

-- name: SessionRevokeAllForUser :execrows
UPDATE auth_sessions SET revoked_at = now(), revoke_reason = @reason::text
WHERE user_id = @user_id AND revoked_at IS NULL
  AND family_id <> coalesce(sqlc.narg(except_family_id)::uuid, '00000000-0000-0000-0000-000000000000'::uuid);

-- SessionFamilyUser returns the current role and firm of the user of a session family, or no
-- row when the family has no usable token left or its user may no longer sign in. Access
-- tokens name the family in their sid claim; the role is read here on every request rather
-- than trusted from the token, so a demotion takes effect at once.
-- name: SessionFamilyUser :one
SELECT u.role, u.firm_id
FROM users u
JOIN firms f ON f.id = u.firm_id
WHERE u.id = @user_id AND u.is_active AND f.is_active
  AND EXISTS (
      SELECT 1 FROM auth_sessions s
      WHERE s.family_id = @family_id AND s.user_id = @user_id
        AND s.rotated_at IS NULL AND s.revoked_at IS NULL AND s.expires_at > now());

-- The live sessions of a user: the newest, unrotated token of each family. started_at is when
-- the family's first token was issued.
-- name: SessionListActiveByUser :many
SELECT s.*, coalesce(first.created_at, s.created_at)::timestamptz AS started_at
FROM auth_sessions s
LEFT JOIN auth_sessions first ON first.id = s.family_id
WHERE s.user_id = @user_id
  AND s.rotated_at IS NULL AND s.revoked_at IS NULL AND s.expires_at > now()
ORDER BY s.last_used_at DESC;

-- name: SessionDeleteExpired :execrows
DELETE FROM auth_sessions WHERE expires_at < @before;

-- Login throttling. An attempt is reserved before its password is hashed: under the two
-- advisory locks below the caller counts the recent failures and, if the budget allows, inserts
-- the attempt as a failure (LoginAttemptReserve), all in one short transaction. Concurrent
-- attempts for one e-mail or from one address are thereby serialized across every server
-- process, so no more guesses are evaluated than the budget holds. A success then flips its own
-- row (LoginAttemptSucceeded).

-- LoginAttemptLockEmail serializes the throttle decisions of one e-mail address. Callers take it
-- before LoginAttemptLockIP, always in this order.
-- name: LoginAttemptLockEmail :exec
SELECT pg_advisory_xact_lock(hashtextextended('login_attempts:email:' || lower(@email::text), 0));

-- LoginAttemptLockIP serializes the throttle decisions of one client address.
-- name: LoginAttemptLockIP :exec
SELECT pg_advisory_xact_lock(hashtextextended('login_attempts:ip:' || @ip::text, 0));

-- LoginAttemptReserve records an attempt as failed before it is evaluated, so that attempts in
-- flight count against the budget.
-- name: LoginAttemptReserve :one
INSERT INTO login_attempts (email, ip, succeeded) VALUES (lower(@email::text), @ip, false)
RETURNING id;

-- LoginAttemptSucceeded marks a reserved attempt as the success it turned out to be.
-- name: LoginAttemptSucceeded :exec
UPDATE login_attempts SET succeeded = true WHERE id = @id;

-- LoginAttemptFailures counts recent failures for an e-mail (only those after its last success)
-- and for a client address, and returns the oldest failure of each window (now() for an empty one)
-- so the caller can say when the window frees up.
-- name: LoginAttemptFailures :one
WITH email_window AS (
    SELECT count(*) AS n, min(attempted_at) AS oldest
    FROM login_attempts
    WHERE email = lower(@email::text) AND NOT succeeded
      AND attempted_at > greatest(
          @since::timestamptz,
          coalesce((SELECT max(attempted_at) FROM login_attempts
                    WHERE email = lower(@email::text) AND succeeded), @since::timestamptz))
), ip_window AS (
    SELECT count(*) AS n, min(attempted_at) AS oldest
    FROM login_attempts
    WHERE ip = @ip::text AND NOT succeeded AND attempted_at > @since::timestamptz
)
SELECT e.n::int AS email_failures, coalesce(e.oldest, now())::timestamptz AS email_oldest,
       i.n::int AS ip_failures, coalesce(i.oldest, now())::timestamptz AS ip_oldest
FROM email_window e, ip_window i;

-- name: LoginAttemptDeleteBefore :execrows
DELETE FROM login_attempts WHERE attempted_at < @before;
