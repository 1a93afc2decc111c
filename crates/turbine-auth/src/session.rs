//! Server-side browser sessions behind a store trait: the database (default) or Redis.
//!
//! The cookie holds a random id; stores only ever see its SHA-256 digest, so a leaked table or
//! Redis dump does not let anyone in.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> turbine_auth::Result<()> {
//! use turbine_auth::session::{MemorySessions, SessionData, SessionStore};
//!
//! let store = MemorySessions::default();
//! let data = SessionData::new(Some(7), chrono::Duration::hours(1), chrono::Duration::days(1));
//! store.save("digest", &data).await?;
//! assert_eq!(store.load("digest").await?.unwrap().user_id, Some(7));
//! store.delete("digest").await?;
//! assert!(store.load("digest").await?.is_none());
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use turbine_orm::{Db, ForeignKey, ModelExt};

use crate::models::Session;
use crate::{Error, Result};

/// What a session holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionData {
    /// The logged-in user (sessions also exist for anonymous visitors who asked for a CSRF token).
    pub user_id: Option<i64>,
    /// The token forms and scripts send back (`X-CSRF-Token` / `csrf_token`).
    pub csrf_token: String,
    /// Whatever handlers keep in the session.
    pub data: serde_json::Value,
    /// Created at (the absolute expiry counts from here).
    pub created_at: DateTime<Utc>,
    /// Last request (the idle expiry counts from here).
    pub last_seen_at: DateTime<Utc>,
    /// The earlier of idle and absolute expiry.
    pub expires_at: DateTime<Utc>,
    /// `User-Agent` at login.
    pub user_agent: String,
    /// Client address at login.
    pub ip: String,
}

impl SessionData {
    /// A new session with a fresh CSRF token, expiring after `idle` (at most `absolute`).
    pub fn new(user_id: Option<i64>, idle: Duration, absolute: Duration) -> Self {
        let now = Utc::now();
        Self {
            user_id,
            csrf_token: crate::token::generate("").token,
            data: serde_json::Value::Object(Default::default()),
            created_at: now,
            last_seen_at: now,
            expires_at: now + idle.min(absolute),
            user_agent: String::new(),
            ip: String::new(),
        }
    }

    /// Whether it is still valid at `now`.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.expires_at > now
    }

    /// Moves the idle expiry forward (bounded by the absolute one).
    pub fn touch(&mut self, now: DateTime<Utc>, idle: Duration, absolute: Duration) {
        self.last_seen_at = now;
        self.expires_at = (now + idle).min(self.created_at + absolute);
    }
}

/// Where sessions live. Keys are the SHA-256 hex digests of cookie values.
pub trait SessionStore: Send + Sync + 'static {
    /// The live session with this digest.
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<SessionData>>>;
    /// Creates or replaces a session.
    fn save<'a>(&'a self, key: &'a str, data: &'a SessionData) -> BoxFuture<'a, Result<()>>;
    /// Ends a session.
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<()>>;
    /// A user's live sessions, newest first.
    fn list_user<'a>(&'a self, user_id: i64) -> BoxFuture<'a, Result<Vec<(String, SessionData)>>>;
    /// Ends every session of a user except `keep`; returns how many ended.
    fn delete_user<'a>(&'a self, user_id: i64, keep: Option<&'a str>)
    -> BoxFuture<'a, Result<u64>>;
    /// Removes expired sessions; returns how many.
    fn clear_expired(&self) -> BoxFuture<'_, Result<u64>>;
}

/// Sessions in the `auth_session` table (the default).
#[derive(Debug, Clone)]
pub struct DatabaseSessions {
    db: Db,
}

impl DatabaseSessions {
    /// Sessions in this database.
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

fn from_row(s: Session) -> (String, SessionData) {
    (
        s.key_hash,
        SessionData {
            user_id: s.user.map(|u| *u.id()),
            csrf_token: s.csrf_token,
            data: s.data,
            created_at: s.created_at,
            last_seen_at: s.last_seen_at,
            expires_at: s.expires_at,
            user_agent: s.user_agent,
            ip: s.ip,
        },
    )
}

impl SessionStore for DatabaseSessions {
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<SessionData>>> {
        Box::pin(async move {
            let row = Session::objects()
                .filter(Session::KEY_HASH.eq(key) & Session::EXPIRES_AT.gt(Utc::now()))
                .first(&self.db)
                .await?;
            Ok(row.map(|s| from_row(s).1))
        })
    }

    fn save<'a>(&'a self, key: &'a str, data: &'a SessionData) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let mut row = Session {
                key_hash: key.to_string(),
                user: data.user_id.map(ForeignKey::new),
                csrf_token: data.csrf_token.clone(),
                data: data.data.clone(),
                created_at: data.created_at,
                last_seen_at: data.last_seen_at,
                expires_at: data.expires_at,
                user_agent: data.user_agent.clone(),
                ip: data.ip.clone(),
            };
            let updated = Session::objects()
                .filter(Session::KEY_HASH.eq(key))
                .update()
                .set(Session::USER, row.user.clone())
                .set(Session::CSRF_TOKEN, row.csrf_token.clone())
                .set(Session::DATA, row.data.clone())
                .set(Session::LAST_SEEN_AT, row.last_seen_at)
                .set(Session::EXPIRES_AT, row.expires_at)
                .execute(&self.db)
                .await?;
            if updated == 0 {
                row.insert(&self.db).await?;
            }
            Ok(())
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            Session::objects()
                .filter(Session::KEY_HASH.eq(key))
                .delete(&self.db)
                .await?;
            Ok(())
        })
    }

    fn list_user<'a>(&'a self, user_id: i64) -> BoxFuture<'a, Result<Vec<(String, SessionData)>>> {
        Box::pin(async move {
            let rows = Session::objects()
                .filter(Session::USER.eq(user_id) & Session::EXPIRES_AT.gt(Utc::now()))
                .order_by([Session::LAST_SEEN_AT.desc()])
                .all(&self.db)
                .await?;
            Ok(rows.into_iter().map(from_row).collect())
        })
    }

    fn delete_user<'a>(
        &'a self,
        user_id: i64,
        keep: Option<&'a str>,
    ) -> BoxFuture<'a, Result<u64>> {
        Box::pin(async move {
            let mut q = Session::objects().filter(Session::USER.eq(user_id));
            if let Some(keep) = keep {
                q = q.exclude(Session::KEY_HASH.eq(keep));
            }
            Ok(q.delete(&self.db).await?)
        })
    }

    fn clear_expired(&self) -> BoxFuture<'_, Result<u64>> {
        Box::pin(async move {
            Ok(Session::objects()
                .filter(Session::EXPIRES_AT.lte(Utc::now()))
                .delete(&self.db)
                .await?)
        })
    }
}

/// Sessions in process memory: for tests and examples (lost on restart, one node only).
#[derive(Debug, Clone, Default)]
pub struct MemorySessions(Arc<Mutex<HashMap<String, SessionData>>>);

impl MemorySessions {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, SessionData>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl SessionStore for MemorySessions {
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<SessionData>>> {
        let now = Utc::now();
        let found = self.map().get(key).filter(|d| d.is_live(now)).cloned();
        Box::pin(async move { Ok(found) })
    }

    fn save<'a>(&'a self, key: &'a str, data: &'a SessionData) -> BoxFuture<'a, Result<()>> {
        self.map().insert(key.to_string(), data.clone());
        Box::pin(async { Ok(()) })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<()>> {
        self.map().remove(key);
        Box::pin(async { Ok(()) })
    }

    fn list_user<'a>(&'a self, user_id: i64) -> BoxFuture<'a, Result<Vec<(String, SessionData)>>> {
        let now = Utc::now();
        let mut out: Vec<_> = self
            .map()
            .iter()
            .filter(|(_, d)| d.user_id == Some(user_id) && d.is_live(now))
            .map(|(k, d)| (k.clone(), d.clone()))
            .collect();
        out.sort_by_key(|(_, d)| std::cmp::Reverse(d.last_seen_at));
        Box::pin(async move { Ok(out) })
    }

    fn delete_user<'a>(
        &'a self,
        user_id: i64,
        keep: Option<&'a str>,
    ) -> BoxFuture<'a, Result<u64>> {
        let mut map = self.map();
        let before = map.len();
        map.retain(|k, d| d.user_id != Some(user_id) || Some(k.as_str()) == keep);
        let n = (before - map.len()) as u64;
        Box::pin(async move { Ok(n) })
    }

    fn clear_expired(&self) -> BoxFuture<'_, Result<u64>> {
        let now = Utc::now();
        let mut map = self.map();
        let before = map.len();
        map.retain(|_, d| d.is_live(now));
        let n = (before - map.len()) as u64;
        Box::pin(async move { Ok(n) })
    }
}

/// Sessions in Redis, shared by every node: `<prefix>session:<digest>` holds the JSON with a
/// TTL at its expiry; `<prefix>user-sessions:<id>` indexes a user's sessions. The prefix
/// (default `turbine:`, setting `auth.redis_prefix`) keeps apps that share a Redis database
/// apart: their user ids would otherwise meet in the index.
#[derive(Clone)]
pub struct RedisSessions {
    conn: redis::aio::ConnectionManager,
    prefix: Arc<str>,
}

impl std::fmt::Debug for RedisSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSessions").finish_non_exhaustive()
    }
}

/// Key prefix of sessions in Redis under the default [`crate::settings::DEFAULT_REDIS_PREFIX`].
pub const REDIS_PREFIX: &str = "turbine:session:";

fn store_err(e: impl std::fmt::Display) -> Error {
    Error::Store(format!("redis sessions: {e}"))
}

impl RedisSessions {
    /// Connects to Redis (`redis://host:6379/0`).
    pub async fn connect(url: &str) -> Result<Self> {
        let client = redis::Client::open(url).map_err(store_err)?;
        let conn = redis::aio::ConnectionManager::new(client)
            .await
            .map_err(store_err)?;
        Ok(Self::from_manager(conn))
    }

    /// Sessions on an existing connection.
    pub fn from_manager(conn: redis::aio::ConnectionManager) -> Self {
        Self {
            conn,
            prefix: crate::settings::DEFAULT_REDIS_PREFIX.into(),
        }
    }

    /// Puts every key under `prefix` (`myapp:`) instead of `turbine:`.
    pub fn with_prefix(mut self, prefix: &str) -> Self {
        self.prefix = prefix.into();
        self
    }

    fn session_key(&self, key: &str) -> String {
        format!("{}session:{key}", self.prefix)
    }

    fn index_key(&self, user_id: i64) -> String {
        format!("{}user-sessions:{user_id}", self.prefix)
    }
}

impl SessionStore for RedisSessions {
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<SessionData>>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let raw: Option<String> = redis::cmd("GET")
                .arg(self.session_key(key))
                .query_async(&mut conn)
                .await
                .map_err(store_err)?;
            let Some(raw) = raw else { return Ok(None) };
            let data: SessionData = serde_json::from_str(&raw).map_err(store_err)?;
            Ok(data.is_live(Utc::now()).then_some(data))
        })
    }

    fn save<'a>(&'a self, key: &'a str, data: &'a SessionData) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let ms = (data.expires_at - Utc::now()).num_milliseconds().max(1);
            let json = serde_json::to_string(data).map_err(store_err)?;
            let mut pipe = redis::pipe();
            pipe.atomic()
                .cmd("SET")
                .arg(self.session_key(key))
                .arg(json)
                .arg("PX")
                .arg(ms)
                .ignore();
            if let Some(user) = data.user_id {
                let index = self.index_key(user);
                pipe.cmd("SADD").arg(&index).arg(key).ignore();
                // The index lives as long as the longest session could.
                pipe.cmd("PEXPIRE").arg(&index).arg(ms).arg("GT").ignore();
                pipe.cmd("PEXPIRE").arg(&index).arg(ms).arg("NX").ignore();
            }
            let mut conn = self.conn.clone();
            pipe.query_async::<()>(&mut conn).await.map_err(store_err)
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            redis::cmd("DEL")
                .arg(self.session_key(key))
                .query_async::<()>(&mut conn)
                .await
                .map_err(store_err)
        })
    }

    fn list_user<'a>(&'a self, user_id: i64) -> BoxFuture<'a, Result<Vec<(String, SessionData)>>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let keys: Vec<String> = redis::cmd("SMEMBERS")
                .arg(self.index_key(user_id))
                .query_async(&mut conn)
                .await
                .map_err(store_err)?;
            let mut out = Vec::new();
            for key in keys {
                match self.load(&key).await? {
                    Some(d) if d.user_id == Some(user_id) => out.push((key, d)),
                    _ => {
                        redis::cmd("SREM")
                            .arg(self.index_key(user_id))
                            .arg(&key)
                            .query_async::<()>(&mut conn)
                            .await
                            .map_err(store_err)?;
                    }
                }
            }
            out.sort_by_key(|(_, d)| std::cmp::Reverse(d.last_seen_at));
            Ok(out)
        })
    }

    fn delete_user<'a>(
        &'a self,
        user_id: i64,
        keep: Option<&'a str>,
    ) -> BoxFuture<'a, Result<u64>> {
        Box::pin(async move {
            let mut n = 0;
            for (key, _) in self.list_user(user_id).await? {
                if Some(key.as_str()) != keep {
                    self.delete(&key).await?;
                    n += 1;
                }
            }
            Ok(n)
        })
    }

    fn clear_expired(&self) -> BoxFuture<'_, Result<u64>> {
        // Redis expires sessions itself (each key has its TTL).
        Box::pin(async { Ok(0) })
    }
}
