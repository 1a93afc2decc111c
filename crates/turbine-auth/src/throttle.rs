//! Rate limiting for failed logins and other guessable endpoints: a fixed window per key.
//!
//! [`MemoryLimiter`] counts in this process; [`RedisLimiter`] counts in Redis so several nodes
//! share the limits. Count a failure with [`Limiter::hit`], ask before checking a password with
//! [`Limiter::peek`], and [`Limiter::reset`] the key after a success.
//!
//! ```
//! use std::time::Duration;
//! use turbine_auth::throttle::{Limiter, MemoryLimiter};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> turbine_auth::Result<()> {
//! let limiter = MemoryLimiter::default();
//! let window = Duration::from_secs(15 * 60);
//! let key = "login:jane@example.com";
//!
//! for _ in 0..5 {
//!     assert!(limiter.hit(key, 5, window).await?.allowed);
//! }
//! let sixth = limiter.hit(key, 5, window).await?;
//! assert!(!sixth.allowed);
//! assert!(sixth.ensure_allowed().is_err()); // Error::Throttled { retry_after }
//!
//! limiter.reset(key).await?; // after a successful login
//! assert!(limiter.peek(key, 5, window).await?.allowed);
//! # Ok(())
//! # }
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use redis::Script;
use redis::aio::ConnectionManager;
use tokio::time::Instant;

use crate::error::{Error, Result};

/// The prefix of every key [`RedisLimiter`] writes, under the default
/// [`crate::settings::DEFAULT_REDIS_PREFIX`].
pub const REDIS_PREFIX: &str = "turbine:throttle:";

/// Whether an attempt may go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// The attempt is (or would be) within the limit.
    pub allowed: bool,
    /// Attempts left in the current window after this one.
    pub remaining: u32,
    /// When refused, how long until the window ends; zero when allowed.
    pub retry_after: Duration,
}

impl Decision {
    /// `Ok(self)` when allowed, else [`Error::Throttled`] with the `retry_after`.
    pub fn ensure_allowed(self) -> Result<Self> {
        if self.allowed {
            Ok(self)
        } else {
            Err(Error::Throttled {
                retry_after: self.retry_after,
            })
        }
    }

    /// The decision for a window holding `count` attempts that ends in `left`, where `allowed`
    /// was decided by the caller (hit and peek differ on that).
    fn new(allowed: bool, limit: u32, count: u32, left: Duration) -> Self {
        Self {
            allowed,
            remaining: limit.saturating_sub(count),
            retry_after: if allowed { Duration::ZERO } else { left },
        }
    }

    fn hit(limit: u32, count: u32, left: Duration) -> Self {
        Self::new(count <= limit, limit, count, left)
    }

    fn peek(limit: u32, count: u32, left: Duration) -> Self {
        Self::new(count < limit, limit, count, left)
    }
}

/// Counts attempts per key in fixed windows. The window of a key starts at its first hit.
pub trait Limiter: Send + Sync + 'static {
    /// Counts one attempt on `key`; refused once more than `limit` attempts fell in the window,
    /// with `retry_after` the time until the window ends.
    fn hit<'a>(
        &'a self,
        key: &'a str,
        limit: u32,
        window: Duration,
    ) -> BoxFuture<'a, Result<Decision>>;

    /// Whether a next attempt on `key` would be allowed (fewer than `limit` so far), without
    /// counting one.
    fn peek<'a>(
        &'a self,
        key: &'a str,
        limit: u32,
        window: Duration,
    ) -> BoxFuture<'a, Result<Decision>>;

    /// Forgets `key`'s attempts (after a successful login).
    fn reset<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<()>>;
}

/// Hits between two sweeps of expired windows in [`MemoryLimiter`].
const PRUNE_EVERY: u64 = 1024;

/// A [`Limiter`] in this process's memory, for one node (and tests: it runs on tokio's clock,
/// so `tokio::time::pause` and `advance` move its windows). Expired windows are swept every
/// 1024 hits, so memory stays bounded by the keys active in one window. Clones share counts.
#[derive(Debug, Clone, Default)]
pub struct MemoryLimiter {
    state: Arc<Mutex<MemoryState>>,
}

#[derive(Debug, Default)]
struct MemoryState {
    windows: HashMap<String, Window>,
    hits: u64,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    count: u32,
    ends: Instant,
}

impl MemoryLimiter {
    /// An empty limiter.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryState> {
        // A panic elsewhere cannot leave the counts inconsistent: keep going.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn hit_now(&self, key: &str, limit: u32, window: Duration) -> Decision {
        let now = Instant::now();
        let mut state = self.lock();
        state.hits = state.hits.wrapping_add(1);
        if state.hits.is_multiple_of(PRUNE_EVERY) {
            state.windows.retain(|_, w| w.ends > now);
        }
        let entry = match state.windows.get_mut(key) {
            Some(w) if w.ends > now => w,
            _ => {
                let fresh = Window {
                    count: 0,
                    ends: now + window,
                };
                state.windows.insert(key.to_owned(), fresh);
                state.windows.get_mut(key).expect("just inserted")
            }
        };
        entry.count = entry.count.saturating_add(1);
        Decision::hit(limit, entry.count, entry.ends - now)
    }

    fn peek_now(&self, key: &str, limit: u32) -> Decision {
        let now = Instant::now();
        let state = self.lock();
        match state.windows.get(key) {
            Some(w) if w.ends > now => Decision::peek(limit, w.count, w.ends - now),
            _ => Decision::peek(limit, 0, Duration::ZERO),
        }
    }
}

impl Limiter for MemoryLimiter {
    fn hit<'a>(
        &'a self,
        key: &'a str,
        limit: u32,
        window: Duration,
    ) -> BoxFuture<'a, Result<Decision>> {
        let decision = self.hit_now(key, limit, window);
        Box::pin(async move { Ok(decision) })
    }

    fn peek<'a>(
        &'a self,
        key: &'a str,
        limit: u32,
        _window: Duration,
    ) -> BoxFuture<'a, Result<Decision>> {
        let decision = self.peek_now(key, limit);
        Box::pin(async move { Ok(decision) })
    }

    fn reset<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<()>> {
        self.lock().windows.remove(key);
        Box::pin(async { Ok(()) })
    }
}

/// Counts one hit and returns `{count, milliseconds left}`; the expiry is set by the first hit
/// of a window (and repaired if the key somehow lost it).
const HIT_SCRIPT: &str = r"
local count = redis.call('INCR', KEYS[1])
if count == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
";

/// Returns `{count, milliseconds left}` without counting (`{0, 0}` for no window).
const PEEK_SCRIPT: &str = r"
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then ttl = 0 end
return {count, ttl}
";

/// A [`Limiter`] in Redis, so every node shares the counts. Each hit is one atomic Lua script
/// (`INCR`, `PEXPIRE` on the window's first hit, `PTTL`); keys are `<prefix>throttle:<key>`
/// ([`REDIS_PREFIX`] with the default prefix; see [`RedisLimiter::with_prefix`]).
/// Redis failures are [`Error::Store`]. Cheap to clone.
#[derive(Clone)]
pub struct RedisLimiter {
    connection: ConnectionManager,
    prefix: Arc<str>,
    hit: Arc<Script>,
    peek: Arc<Script>,
}

impl std::fmt::Debug for RedisLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLimiter").finish_non_exhaustive()
    }
}

impl RedisLimiter {
    /// Connects to Redis at `url` (`redis://host:6379/0`) with a reconnecting connection. An
    /// unreachable server fails with [`Error::Store`] after the connection manager's retries
    /// (several seconds).
    pub async fn connect(url: &str) -> Result<Self> {
        let client = redis::Client::open(url).map_err(store)?;
        let connection = ConnectionManager::new(client).await.map_err(store)?;
        Ok(Self::from_manager(connection))
    }

    /// Uses an existing connection manager (shared with other Redis users of the app).
    pub fn from_manager(connection: ConnectionManager) -> Self {
        Self {
            connection,
            prefix: crate::settings::DEFAULT_REDIS_PREFIX.into(),
            hit: Arc::new(Script::new(HIT_SCRIPT)),
            peek: Arc::new(Script::new(PEEK_SCRIPT)),
        }
    }

    /// Puts every key under `prefix` (`myapp:`) instead of `turbine:`, so apps sharing a Redis
    /// database keep their own counts.
    pub fn with_prefix(mut self, prefix: &str) -> Self {
        self.prefix = prefix.into();
        self
    }

    fn redis_key(&self, key: &str) -> String {
        format!("{}throttle:{key}", self.prefix)
    }

    async fn run(&self, script: &Script, key: &str, window: Duration) -> Result<(u32, Duration)> {
        let window_ms = u64::try_from(window.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut connection = self.connection.clone();
        let (count, ttl): (i64, i64) = script
            .key(self.redis_key(key))
            .arg(window_ms)
            .invoke_async(&mut connection)
            .await
            .map_err(store)?;
        let count = u32::try_from(count.max(0)).unwrap_or(u32::MAX);
        let left = Duration::from_millis(u64::try_from(ttl.max(0)).unwrap_or(0));
        Ok((count, left))
    }
}

impl Limiter for RedisLimiter {
    fn hit<'a>(
        &'a self,
        key: &'a str,
        limit: u32,
        window: Duration,
    ) -> BoxFuture<'a, Result<Decision>> {
        Box::pin(async move {
            let (count, left) = self.run(&self.hit, key, window).await?;
            Ok(Decision::hit(limit, count, left))
        })
    }

    fn peek<'a>(
        &'a self,
        key: &'a str,
        limit: u32,
        window: Duration,
    ) -> BoxFuture<'a, Result<Decision>> {
        Box::pin(async move {
            let (count, left) = self.run(&self.peek, key, window).await?;
            Ok(Decision::peek(limit, count, left))
        })
    }

    fn reset<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            redis::cmd("DEL")
                .arg(self.redis_key(key))
                .query_async::<()>(&mut connection)
                .await
                .map_err(store)
        })
    }
}

fn store(e: redis::RedisError) -> Error {
    Error::Store(format!("redis: {e}"))
}
