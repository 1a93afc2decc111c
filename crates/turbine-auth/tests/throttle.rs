//! Login throttling: the memory limiter on tokio's paused clock, and the Redis limiter against
//! `TURBINE_TEST_REDIS_URL` (skipped when unset, unless `TURBINE_REQUIRE_SERVICES=1`).

use std::time::Duration;

use turbine_auth::Error;
use turbine_auth::throttle::{Decision, Limiter, MemoryLimiter, REDIS_PREFIX, RedisLimiter};

const WINDOW: Duration = Duration::from_secs(60);

/// Five allowed hits then refusals, with `remaining` and `retry_after` along the way.
async fn limits_per_window(limiter: &dyn Limiter, key: &str) {
    for i in 1..=5u32 {
        let d = limiter.hit(key, 5, WINDOW).await.unwrap();
        assert_eq!(
            d,
            Decision {
                allowed: true,
                remaining: 5 - i,
                retry_after: Duration::ZERO
            },
            "hit {i}"
        );
    }
    let refused = limiter.hit(key, 5, WINDOW).await.unwrap();
    assert!(!refused.allowed);
    assert_eq!(refused.remaining, 0);
    assert!(refused.retry_after > Duration::ZERO && refused.retry_after <= WINDOW);
    match refused.ensure_allowed() {
        Err(Error::Throttled { retry_after }) => assert_eq!(retry_after, refused.retry_after),
        other => panic!("expected Throttled, got {other:?}"),
    }
    assert!(!limiter.peek(key, 5, WINDOW).await.unwrap().allowed);
}

/// `peek` never counts, `reset` clears, keys are independent.
async fn peek_and_reset(limiter: &dyn Limiter, key: &str, other: &str) {
    for _ in 0..10 {
        assert!(limiter.peek(key, 2, WINDOW).await.unwrap().allowed);
    }
    assert!(limiter.hit(key, 2, WINDOW).await.unwrap().allowed);
    let peek = limiter.peek(key, 2, WINDOW).await.unwrap();
    assert!(peek.allowed);
    assert_eq!(peek.remaining, 1);
    assert!(limiter.hit(key, 2, WINDOW).await.unwrap().allowed);
    // Two attempts used: the next one would be refused.
    let peek = limiter.peek(key, 2, WINDOW).await.unwrap();
    assert!(!peek.allowed);
    assert!(peek.retry_after > Duration::ZERO);
    assert!(peek.ensure_allowed().is_err());
    // Another key is untouched.
    assert!(limiter.peek(other, 2, WINDOW).await.unwrap().allowed);
    limiter.reset(key).await.unwrap();
    let peek = limiter.peek(key, 2, WINDOW).await.unwrap();
    assert_eq!(
        peek,
        Decision {
            allowed: true,
            remaining: 2,
            retry_after: Duration::ZERO
        }
    );
    assert!(limiter.hit(key, 2, WINDOW).await.unwrap().allowed);
    limiter.reset(key).await.unwrap();
    limiter.reset("never-seen").await.unwrap();
}

// ---- memory ----

#[tokio::test(start_paused = true)]
async fn memory_limit_and_window() {
    let limiter = MemoryLimiter::default();
    limits_per_window(&limiter, "login:a").await;

    tokio::time::advance(Duration::from_secs(20)).await;
    let refused = limiter.hit("login:a", 5, WINDOW).await.unwrap();
    assert!(!refused.allowed);
    assert_eq!(refused.retry_after, Duration::from_secs(40));

    // The window ends: a new one starts at the next hit.
    tokio::time::advance(Duration::from_secs(40)).await;
    assert!(limiter.peek("login:a", 5, WINDOW).await.unwrap().allowed);
    let d = limiter.hit("login:a", 5, WINDOW).await.unwrap();
    assert!(d.allowed);
    assert_eq!(d.remaining, 4);
}

#[tokio::test(start_paused = true)]
async fn memory_peek_and_reset() {
    let limiter = MemoryLimiter::new();
    peek_and_reset(&limiter, "login:b", "login:c").await;
}

#[tokio::test(start_paused = true)]
async fn memory_clones_share_counts() {
    let a = MemoryLimiter::default();
    let b = a.clone();
    assert!(a.hit("k", 1, WINDOW).await.unwrap().allowed);
    assert!(!b.hit("k", 1, WINDOW).await.unwrap().allowed);
}

#[tokio::test(start_paused = true)]
async fn memory_zero_limit_refuses_everything() {
    let limiter = MemoryLimiter::default();
    assert!(!limiter.peek("k", 0, WINDOW).await.unwrap().allowed);
    assert!(!limiter.hit("k", 0, WINDOW).await.unwrap().allowed);
}

#[tokio::test(start_paused = true)]
async fn memory_prunes_expired_windows() {
    let limiter = MemoryLimiter::default();
    for i in 0..3000 {
        limiter
            .hit(&format!("key-{i}"), 5, Duration::from_secs(1))
            .await
            .unwrap();
    }
    tokio::time::advance(Duration::from_secs(2)).await;
    // The next sweep (at most 1024 hits away) drops the expired windows; the counts of the old
    // keys start over either way.
    for i in 0..1100 {
        let d = limiter
            .hit(&format!("key-{i}"), 5, Duration::from_secs(1))
            .await
            .unwrap();
        assert_eq!(d.remaining, 4);
    }
    let debug = format!("{limiter:?}");
    let entries = debug.matches("Window").count();
    assert!(entries <= 1100, "{entries} windows kept");
}

#[tokio::test]
async fn limiter_is_object_safe_and_shareable() {
    let limiter: std::sync::Arc<dyn Limiter> = std::sync::Arc::new(MemoryLimiter::default());
    let handle = {
        let limiter = limiter.clone();
        tokio::spawn(async move { limiter.hit("k", 3, WINDOW).await.unwrap() })
    };
    assert!(handle.await.unwrap().allowed);
}

// ---- redis ----

/// The Redis URL to test against, or `None` (with a loud message) to skip.
fn redis_url() -> Option<String> {
    match std::env::var("TURBINE_TEST_REDIS_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            if std::env::var("TURBINE_REQUIRE_SERVICES").as_deref() == Ok("1") {
                panic!("TURBINE_TEST_REDIS_URL not set but TURBINE_REQUIRE_SERVICES=1");
            }
            eprintln!("SKIPPED: TURBINE_TEST_REDIS_URL not set");
            None
        }
    }
}

/// A key no other test (or test run) uses.
fn unique(name: &str) -> String {
    format!("test:{}:{name}", uuid::Uuid::new_v4())
}

#[tokio::test]
async fn redis_limit_and_reset() {
    let Some(url) = redis_url() else { return };
    let limiter = RedisLimiter::connect(&url).await.unwrap();
    let key = unique("limit");
    limits_per_window(&limiter, &key).await;
    limiter.reset(&key).await.unwrap();
    assert!(limiter.hit(&key, 5, WINDOW).await.unwrap().allowed);
    limiter.reset(&key).await.unwrap();
}

#[tokio::test]
async fn redis_peek_and_reset() {
    let Some(url) = redis_url() else { return };
    let limiter = RedisLimiter::connect(&url).await.unwrap();
    peek_and_reset(&limiter, &unique("peek"), &unique("other")).await;
}

#[tokio::test]
async fn redis_window_expires() {
    let Some(url) = redis_url() else { return };
    let limiter = RedisLimiter::connect(&url).await.unwrap();
    let key = unique("window");
    let window = Duration::from_millis(300);
    assert!(limiter.hit(&key, 1, window).await.unwrap().allowed);
    let refused = limiter.hit(&key, 1, window).await.unwrap();
    assert!(!refused.allowed);
    assert!(refused.retry_after <= window);
    tokio::time::sleep(window + Duration::from_millis(100)).await;
    assert!(limiter.hit(&key, 1, window).await.unwrap().allowed);
    limiter.reset(&key).await.unwrap();
}

#[tokio::test]
async fn redis_nodes_share_counts() {
    let Some(url) = redis_url() else { return };
    // Two limiters with their own connections, as on two nodes.
    let node_a = RedisLimiter::connect(&url).await.unwrap();
    let client = redis::Client::open(url.as_str()).unwrap();
    let node_b = RedisLimiter::from_manager(client.get_connection_manager().await.unwrap());
    let key = unique("shared");
    assert!(node_a.hit(&key, 3, WINDOW).await.unwrap().allowed);
    assert!(node_b.hit(&key, 3, WINDOW).await.unwrap().allowed);
    assert_eq!(node_a.peek(&key, 3, WINDOW).await.unwrap().remaining, 1);
    assert!(node_a.hit(&key, 3, WINDOW).await.unwrap().allowed);
    assert!(!node_b.hit(&key, 3, WINDOW).await.unwrap().allowed);
    node_b.reset(&key).await.unwrap();
    assert!(node_a.peek(&key, 3, WINDOW).await.unwrap().allowed);

    // Concurrent hits from both nodes are counted exactly (the script is atomic).
    let key = unique("concurrent");
    let hits = (0..20).map(|i| {
        let node = if i % 2 == 0 {
            node_a.clone()
        } else {
            node_b.clone()
        };
        let key = key.clone();
        tokio::spawn(async move { node.hit(&key, 10, WINDOW).await.unwrap().allowed })
    });
    let allowed = futures_util::future::join_all(hits)
        .await
        .into_iter()
        .filter(|r| *r.as_ref().unwrap())
        .count();
    assert_eq!(allowed, 10);
    node_a.reset(&key).await.unwrap();
}

#[tokio::test]
async fn redis_keys_are_prefixed() {
    let Some(url) = redis_url() else { return };
    let limiter = RedisLimiter::connect(&url).await.unwrap();
    let key = unique("prefix");
    limiter.hit(&key, 5, WINDOW).await.unwrap();
    let mut connection = redis::Client::open(url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let stored: Option<i64> = redis::cmd("GET")
        .arg(format!("{REDIS_PREFIX}{key}"))
        .query_async(&mut connection)
        .await
        .unwrap();
    assert_eq!(stored, Some(1));
    let ttl: i64 = redis::cmd("PTTL")
        .arg(format!("{REDIS_PREFIX}{key}"))
        .query_async(&mut connection)
        .await
        .unwrap();
    assert!(ttl > 0 && ttl <= 60_000, "{ttl}");
    limiter.reset(&key).await.unwrap();
}

#[tokio::test]
async fn bad_redis_url_is_a_store_error() {
    // (An unreachable server is also a Store error, but only after the connection manager's
    // retries, which take seconds.)
    match RedisLimiter::connect("not a redis url").await {
        Err(Error::Store(message)) => assert!(message.starts_with("redis: "), "{message}"),
        other => panic!("expected Error::Store, got {:?}", other.map(|_| ())),
    }
}
