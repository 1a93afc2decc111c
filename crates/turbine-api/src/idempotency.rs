//! `Idempotency-Key` on creates: a retried `POST` with the same key (from the same user, to the
//! same collection) gets the first response back instead of creating a second object — mobile
//! networks retry. The key's record is written in the create's own transaction, so a create
//! is never recorded without its object, nor done twice when two retries race.
//!
//! ```
//! let set = turbine_api::idempotency::migrations().unwrap();
//! assert_eq!(set.migrations()[0].name, "api.0001_initial");
//! ```

use chrono::{DateTime, Duration, Utc};
use http::{HeaderMap, HeaderValue, StatusCode};
use sha2::{Digest, Sha256};
use turbine_core::problem::Problem;
use turbine_macros::Model;
use turbine_orm::migrate::MigrationSet;
use turbine_orm::{Db, ModelExt};

/// The app name of the battery's model and migrations.
pub const APP: &str = "api";

/// How long a key is remembered.
pub const KEY_TTL_HOURS: i64 = 24;

/// The longest key accepted.
pub const MAX_KEY_LEN: usize = 255;

/// The first response to a create sent with an `Idempotency-Key`.
#[derive(Model, Debug, Clone)]
#[model(
    app = "api",
    crate = "turbine_orm",
    unique_together(fields = ["scope", "key"])
)]
pub struct IdempotencyKey {
    /// Identity key.
    pub id: i64,
    /// Who sent it where: `<user id or anon> <collection path>`.
    #[field(max_length = 300)]
    pub scope: String,
    /// The client's key.
    #[field(max_length = 255)]
    pub key: String,
    /// A digest of the request body: the same key with another body is refused.
    #[field(max_length = 64)]
    pub fingerprint: String,
    /// The response status.
    pub status: i16,
    /// The response's `Location`, if any.
    pub location: Option<String>,
    /// The response body (JSON).
    pub body: String,
    /// When the first response was made.
    pub created_at: DateTime<Utc>,
}

/// The battery's migrations, named `api.0001_initial`…
pub fn migrations() -> turbine_orm::Result<MigrationSet> {
    turbine_orm::migrations!("migrations")?.qualified(APP)
}

/// A create's idempotency: its key, scope and request fingerprint.
#[derive(Debug, Clone)]
pub(crate) struct Attempt {
    pub(crate) scope: String,
    pub(crate) key: String,
    pub(crate) fingerprint: String,
}

impl Attempt {
    /// The attempt a request makes, if it sends `Idempotency-Key` (400 when the key is not
    /// 1–255 visible ASCII characters).
    pub(crate) fn from_request(
        headers: &HeaderMap,
        user: Option<i64>,
        path: &str,
        body: &[u8],
    ) -> turbine_core::Result<Option<Self>> {
        let Some(value) = headers.get("idempotency-key") else {
            return Ok(None);
        };
        let key = value
            .to_str()
            .ok()
            .map(|k| k.trim_matches('"'))
            .filter(|k| !k.is_empty() && k.len() <= MAX_KEY_LEN && k.bytes().all(|b| b.is_ascii_graphic()))
            .ok_or_else(|| {
                turbine_core::Error::from(Problem::bad_request(format!(
                    "Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters (a UUID is a good key)."
                )))
            })?;
        Ok(Some(Self {
            scope: format!("{} {path}", user.map_or("anon".into(), |id| id.to_string())),
            key: key.to_owned(),
            fingerprint: hex(&Sha256::digest(body)),
        }))
    }

    /// The remembered response for this key, if any (expired ones are deleted). The same key
    /// with a different body is a 422.
    pub(crate) async fn replay(&self, db: &Db) -> turbine_core::Result<Option<IdempotencyKey>> {
        let found = IdempotencyKey::objects()
            .filter(
                IdempotencyKey::SCOPE
                    .eq(self.scope.as_str())
                    .and(IdempotencyKey::KEY.eq(self.key.as_str())),
            )
            .first(db)
            .await?;
        let Some(found) = found else { return Ok(None) };
        if found.created_at < Utc::now() - Duration::hours(KEY_TTL_HOURS) {
            found.delete(db).await?;
            return Ok(None);
        }
        if found.fingerprint != self.fingerprint {
            return Err(Problem::new(StatusCode::UNPROCESSABLE_ENTITY)
                .detail("This Idempotency-Key was already used with a different request body; use a new key for a new request.")
                .into());
        }
        Ok(Some(found))
    }

    /// Records the response (in the create's transaction).
    pub(crate) async fn record(
        &self,
        db: &Db,
        status: StatusCode,
        location: Option<&HeaderValue>,
        body: &[u8],
    ) -> turbine_orm::Result<()> {
        let mut row = IdempotencyKey {
            id: 0,
            scope: self.scope.clone(),
            key: self.key.clone(),
            fingerprint: self.fingerprint.clone(),
            status: status.as_u16() as i16,
            location: location.and_then(|l| l.to_str().ok()).map(str::to_owned),
            body: String::from_utf8_lossy(body).into_owned(),
            created_at: Utc::now(),
        };
        row.insert(db).await
    }
}

/// Deletes the keys older than [`KEY_TTL_HOURS`]; returns how many. Creates call it now and
/// then (every 256th create with a key), so the table stays small without a cron job.
pub async fn purge_expired(db: &Db) -> turbine_orm::Result<u64> {
    IdempotencyKey::objects()
        .filter(IdempotencyKey::CREATED_AT.lt(Utc::now() - Duration::hours(KEY_TTL_HOURS)))
        .delete(db)
        .await
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
