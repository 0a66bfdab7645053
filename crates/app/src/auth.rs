//! Sign-in, sessions, API tokens and passwords. Passwords are hashed with argon2id (OWASP
//! parameters: 19 MiB, 2 iterations); session and API tokens are 256-bit random values stored only
//! as SHA-256 hashes. Login attempts are counted per e-mail and per IP in the database, so the
//! limit holds across several server processes.

use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use jiff::{SignedDuration, Timestamp};
use sha2::{Digest, Sha256};

use crate::{App, AppError, Credential, Principal};
use model::{ApiTokenId, Email, TokenScope, UserId};
use store::{ApiTokenRow, AuditContext};

/// How long a session lives without activity.
pub const SESSION_IDLE: SignedDuration = SignedDuration::from_hours(12);
/// Login attempts allowed per window, per e-mail and per IP.
const LOGIN_WINDOW_SECONDS: i64 = 15 * 60;
const LOGIN_MAX_PER_EMAIL: i64 = 10;
const LOGIN_MAX_PER_IP: i64 = 100;
const MIN_PASSWORD_LEN: usize = 10;
const MAX_TOKEN_DAYS: i64 = 366;

pub fn hash_password(password: &str) -> Result<String, AppError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| AppError::Internal(format!("no randomness: {e}")))?;
    hash_password_with_salt(password, &salt)
}

/// Hash with a given salt: only for generated demo data, where the same seed must give the same
/// database byte for byte. Real passwords always get a random salt ([`hash_password`]).
pub fn hash_password_with_salt(password: &str, salt: &[u8; 16]) -> Result<String, AppError> {
    let salt = SaltString::encode_b64(salt).map_err(|e| AppError::Internal(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("hashing failed: {e}")))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A random hex string of `bytes` random bytes (256 bits for 32), for one-off secrets.
pub fn random_hex(bytes: usize) -> Result<String, AppError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| AppError::Internal(format!("no randomness: {e}")))?;
    Ok(hex(&buf))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a secret token, hex encoded: what the database stores.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// A freshly signed-in session: the cookie value (shown once, never stored) and its CSRF token.
#[derive(Debug, Clone)]
pub struct LoginOutcome {
    pub session_token: String,
    pub csrf_token: String,
    pub user_id: UserId,
}

/// A freshly created API token: the secret is only ever shown here.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub secret: String,
    pub token: ApiTokenRow,
}

fn check_new_password(password: &str) -> Result<(), AppError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(AppError::invalid("new_password", format!("must be at least {MIN_PASSWORD_LEN} characters")));
    }
    if password.len() > 1024 {
        return Err(AppError::invalid("new_password", "is too long"));
    }
    Ok(())
}

impl App {
    /// Checks e-mail and password. Every failure is the same generic error; attempts are
    /// rate-limited per e-mail and per IP before the (deliberately slow) hash check runs.
    pub async fn login(&self, email: &str, password: &str, ip: Option<&str>) -> Result<LoginOutcome, AppError> {
        let now = self.now();
        let window = Timestamp::from_second(now.as_second() - now.as_second().rem_euclid(LOGIN_WINDOW_SECONDS))
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let retry_after_seconds = LOGIN_WINDOW_SECONDS - now.as_second().rem_euclid(LOGIN_WINDOW_SECONDS);
        let normalized = email.trim().to_lowercase();
        let by_email = self.store.rate_limit_hit(&format!("login:email:{normalized}"), window).await?;
        let by_ip = match ip {
            Some(ip) => self.store.rate_limit_hit(&format!("login:ip:{ip}"), window).await?,
            None => 0,
        };
        if by_email > LOGIN_MAX_PER_EMAIL || by_ip > LOGIN_MAX_PER_IP {
            return Err(AppError::RateLimited { retry_after_seconds });
        }
        let email = Email::parse(email).map_err(|_| AppError::BadCredentials)?;
        let Some((row, hash)) = self.store.user_credentials(&email).await? else {
            // Spend the same time as a real check so response times do not reveal accounts.
            let _ = verify_password(password, DUMMY_HASH);
            return Err(AppError::BadCredentials);
        };
        let ok = hash.as_deref().is_some_and(|h| verify_password(password, h));
        if !ok || !row.user.active {
            return Err(AppError::BadCredentials);
        }
        let session_token = random_hex(32)?;
        let csrf_token = random_hex(32)?;
        let ctx = AuditContext {
            actor_user_id: Some(row.user.id),
            actor_token_id: None,
            ip: ip.map(str::to_string),
            at: now,
        };
        self.store
            .session_create(&ctx, &token_hash(&session_token), row.user.id, &csrf_token, now + SESSION_IDLE)
            .await?;
        Ok(LoginOutcome { session_token, csrf_token, user_id: row.user.id })
    }

    /// The principal behind a session cookie, sliding its expiry forward.
    pub async fn authenticate_session(&self, session_token: &str, ip: Option<String>) -> Result<Principal, AppError> {
        let now = self.now();
        let hash = token_hash(session_token);
        let (s, row) = self.store.session_with_user(&hash, now).await?.ok_or(AppError::Unauthenticated)?;
        if now.as_second() - s.last_seen_at.as_second() > 60 {
            self.store.session_touch(&hash, now, now + SESSION_IDLE).await?;
        }
        let user = row.user;
        Ok(Principal { user, credential: Credential::Session { token_hash: hash, csrf_token: s.csrf_token }, ip })
    }

    /// The principal behind a bearer token.
    pub async fn authenticate_token(&self, secret: &str, ip: Option<String>) -> Result<Principal, AppError> {
        let now = self.now();
        let t = self.store.token_authenticate(&token_hash(secret), now).await?.ok_or(AppError::Unauthenticated)?;
        let user = self.store.user_get(t.user_id).await?.user;
        Ok(Principal { user, credential: Credential::Token { id: t.id, scope: t.scope }, ip })
    }

    pub async fn logout(&self, p: &Principal) -> Result<(), AppError> {
        if let Credential::Session { token_hash, .. } = &p.credential {
            self.store.session_delete(&p.audit(self.now()), token_hash).await?;
        }
        Ok(())
    }

    /// Changes the caller's own password after checking the current one; other sessions end.
    pub async fn change_password(&self, p: &Principal, current: &str, new: &str) -> Result<(), AppError> {
        let hash = self.store.password_hash(p.user.id).await?;
        if !hash.as_deref().is_some_and(|h| verify_password(current, h)) {
            return Err(AppError::invalid("current_password", "is not correct"));
        }
        check_new_password(new)?;
        if new == current {
            return Err(AppError::invalid("new_password", "must differ from the current password"));
        }
        let new_hash = hash_password(new)?;
        let keep = match &p.credential {
            Credential::Session { token_hash, .. } => Some(token_hash.as_str()),
            Credential::Token { .. } | Credential::Cli => None,
        };
        self.store.user_set_password(&p.audit(self.now()), p.user.id, &new_hash, keep).await?;
        Ok(())
    }

    /// Creates an API token for the caller. Scope `write` needs a role that may write.
    pub async fn create_token(
        &self,
        p: &Principal,
        name: &str,
        scope: TokenScope,
        days: i64,
    ) -> Result<NewToken, AppError> {
        if let Credential::Token { .. } = p.credential {
            return Err(AppError::Refused(
                "API tokens are created from a signed-in session, not with another token".into(),
            ));
        }
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(AppError::invalid("name", "must be 1 to 100 characters"));
        }
        if !(1..=MAX_TOKEN_DAYS).contains(&days) {
            return Err(AppError::invalid("expires_in_days", format!("must be between 1 and {MAX_TOKEN_DAYS}")));
        }
        let now = self.now();
        let prefix = random_hex(4)?;
        let secret = format!("so_{prefix}_{}", random_hex(32)?);
        let expires = now + SignedDuration::from_hours(24 * days);
        let hash = token_hash(&secret);
        let new = store::NewApiToken {
            user: p.user.id,
            name,
            prefix: &prefix,
            token_hash: &hash,
            scope,
            expires_at: expires,
        };
        let token = self.store.token_create(&p.audit(now), &new).await?;
        Ok(NewToken { secret, token })
    }

    pub async fn list_tokens(&self, p: &Principal) -> Result<Vec<ApiTokenRow>, AppError> {
        Ok(self.store.token_list(p.user.id).await?)
    }

    pub async fn revoke_token(&self, p: &Principal, id: ApiTokenId) -> Result<(), AppError> {
        self.store.token_revoke(&p.audit(self.now()), p.user.id, id).await?;
        Ok(())
    }

    /// Housekeeping for one process at a time (job lock in the database): drops old
    /// rate-limit windows and refreshes planner statistics. Returns false when another process
    /// holds the lock.
    pub async fn sweep(&self, holder: &str) -> Result<bool, AppError> {
        let now = self.now();
        if !self.store.job_lock_acquire("sweep", holder, now, now + SignedDuration::from_mins(5)).await? {
            return Ok(false);
        }
        self.store.rate_limit_sweep(now - SignedDuration::from_hours(1)).await?;
        self.store.optimize().await?;
        self.store.job_lock_release("sweep", holder).await?;
        Ok(true)
    }
}

/// An argon2id hash of a random string, used to equalise timing for unknown e-mails.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsZXNvcHNkdW1teQ$0RkmIs2bL+8N7AWGR5fTMGd6jR6uKZIUqLxw3C2wHZ0";

impl App {
    /// The user a command-line run acts as: the active user with this e-mail, or else the first
    /// active administrator (head of commercial operations, sales operations, CRM administrator).
    pub async fn cli_principal(&self, email: Option<&str>) -> Result<Principal, AppError> {
        let user = match email {
            Some(e) => {
                let email = model::Email::parse(e)?;
                let (row, _) = self
                    .store
                    .user_credentials(&email)
                    .await?
                    .ok_or_else(|| AppError::invalid("as", format!("no user has the e-mail {e}")))?;
                row.user
            }
            None => {
                let page = self.store.user_list(&store::UserFilter::default(), 10_000, 0).await?;
                page.items
                    .into_iter()
                    .map(|r| r.user)
                    .find(|u| u.active && u.role.has(model::Permission::AdministerOrganisation))
                    .ok_or_else(|| {
                        AppError::invalid(
                            "as",
                            "no active administrator exists; create one with `salesops user create`",
                        )
                    })?
            }
        };
        if !user.active {
            return Err(AppError::invalid("as", format!("{} is not active", user.email.as_str())));
        }
        Ok(Principal { user, credential: Credential::Cli, ip: None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }

    #[test]
    fn token_hashes_are_sha256_hex() {
        assert_eq!(token_hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
