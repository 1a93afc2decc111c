//! The auth battery with Redis behind it (`session_store = "redis"`, `throttle_store =
//! "redis"`), through HTTP: sessions live in Redis with their expiry as the key's TTL, and two
//! app instances on one Redis and one database share sessions and login throttling.
//!
//! Needs `TURBINE_TEST_REDIS_URL` (skipped loudly without it, a failure with
//! `TURBINE_REQUIRE_SERVICES=1`). Tests share the Redis server with each other and with other
//! runs: every test uses its own emails and client addresses, so its keys are its own, and
//! deletes the keys it made.

mod common;

use std::time::{Duration, Instant};

use chrono::Utc;
use common::*;
use serde_json::{Value, json};
use turbine::prelude::App;
use turbine::testing::{TestClient, TestResponse, service_url};
use turbine_auth::models::Session;
use turbine_auth::session::{REDIS_PREFIX as SESSION_PREFIX, SessionData};
use turbine_auth::throttle::REDIS_PREFIX as THROTTLE_PREFIX;
use turbine_auth::token;
use turbine_orm::ModelExt;

/// The index of a user's sessions (`turbine:user-sessions:<id>`, see `RedisSessions`).
const USER_SESSIONS_PREFIX: &str = "turbine:user-sessions:";

/// The same secret on every instance, as on the nodes of one deployment.
const SECRET: &str = "redis-tests-shared-secret-redis-tests-shared-secret";

/// An app on `db` with sessions and throttling in Redis; `auth` adds lines to `[auth]`.
fn redis_app(redis: &str, db: &TestDb, auth: &str) -> App {
    app_toml(&format!(
        "secret_key = '{SECRET}'\n[database]\nurl = '{}'\n[auth]\nsession_store = 'redis'\n\
         throttle_store = 'redis'\nredis_url = '{redis}'\n{auth}",
        db.url()
    ))
}

/// A direct connection to the test Redis, to look at what the app wrote; it hands out the
/// test's client addresses and emails and, at the end, deletes every key naming them.
struct Probe {
    client: redis::Client,
    connection: redis::aio::MultiplexedConnection,
    made: std::sync::Mutex<Made>,
}

/// What a test made: its client addresses, email digests and sessions.
#[derive(Default)]
struct Made {
    ips: Vec<String>,
    email_hashes: Vec<String>,
    /// `(user id, session digest)`.
    sessions: Vec<(i64, String)>,
}

impl Probe {
    async fn connect(url: &str) -> Self {
        let client = redis::Client::open(url).unwrap();
        let connection = client.get_multiplexed_async_connection().await.unwrap();
        Self {
            client,
            connection,
            made: Default::default(),
        }
    }

    fn made(&self) -> std::sync::MutexGuard<'_, Made> {
        self.made.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A client address no other test or run uses (`10.x.y.z:port`), so per-IP counts are
    /// this test's.
    fn peer(&self) -> String {
        let b = uuid::Uuid::new_v4().into_bytes();
        let ip = format!("10.{}.{}.{}", b[0], b[1], b[2]);
        self.made().ips.push(ip.clone());
        format!("{ip}:40000")
    }

    /// An email address no other test or run uses.
    fn email(&self, name: &str) -> String {
        let email = format!("{name}-{}@example.com", uuid::Uuid::new_v4().simple());
        self.made().email_hashes.push(token::hash(&email));
        email
    }

    async fn query<T: redis::FromRedisValue>(&self, cmd: &mut redis::Cmd) -> T {
        cmd.query_async(&mut self.connection.clone()).await.unwrap()
    }

    async fn exists(&self, key: &str) -> bool {
        self.query::<i64>(redis::cmd("EXISTS").arg(key)).await == 1
    }

    /// Milliseconds to live (`-2`: no such key, `-1`: no expiry).
    async fn pttl(&self, key: &str) -> i64 {
        self.query(redis::cmd("PTTL").arg(key)).await
    }

    async fn get(&self, key: &str) -> Option<String> {
        self.query(redis::cmd("GET").arg(key)).await
    }

    async fn session(&self, key: &str) -> SessionData {
        let raw = self
            .get(key)
            .await
            .unwrap_or_else(|| panic!("no session at {key}"));
        serde_json::from_str(&raw).unwrap()
    }

    /// Replaces a stored session, with a new TTL.
    async fn put_session(&self, key: &str, data: &SessionData, ttl: Duration) {
        let json = serde_json::to_string(data).unwrap();
        let px = ttl.as_millis() as u64;
        self.query::<()>(redis::cmd("SET").arg(key).arg(json).arg("PX").arg(px))
            .await;
    }

    async fn del(&self, key: &str) {
        self.query::<()>(redis::cmd("DEL").arg(key)).await;
    }

    async fn is_member(&self, set: &str, member: &str) -> bool {
        self.query::<i64>(redis::cmd("SISMEMBER").arg(set).arg(member))
            .await
            == 1
    }

    /// The Redis key of the session behind a cookie value.
    fn session_key(&self, cookie: &str, user_id: i64) -> String {
        let digest = token::hash(cookie);
        let key = format!("{SESSION_PREFIX}{digest}");
        self.made().sessions.push((user_id, digest));
        key
    }
}

impl Drop for Probe {
    /// Deletes the keys this test made, failed or not: its sessions, and the throttle counters
    /// naming its addresses and emails. (User ids start at 1 in every test database, so the
    /// user-session index is shared with other tests: only this test's members leave it.)
    fn drop(&mut self) {
        let made = std::mem::take(&mut *self.made());
        let Ok(mut conn) = self.client.get_connection() else {
            return;
        };
        let mut doomed: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{THROTTLE_PREFIX}*"))
            .query::<Vec<String>>(&mut conn)
            .unwrap_or_default()
            .into_iter()
            .filter(|key| {
                made.ips.iter().any(|ip| key.ends_with(&format!(":{ip}")))
                    || made.email_hashes.iter().any(|h| key.contains(h.as_str()))
            })
            .collect();
        let mut pipe = redis::pipe();
        for (user, digest) in &made.sessions {
            doomed.push(format!("{SESSION_PREFIX}{digest}"));
            pipe.cmd("SREM")
                .arg(format!("{USER_SESSIONS_PREFIX}{user}"))
                .arg(digest)
                .ignore();
        }
        for key in doomed {
            pipe.cmd("DEL").arg(key).ignore();
        }
        let _ = pipe.query::<()>(&mut conn);
    }
}

/// The test Redis URL, or `None` (after a loud message) to skip; a panic instead when
/// `TURBINE_REQUIRE_SERVICES=1`.
fn redis_url() -> Option<String> {
    let url = service_url("REDIS");
    if url.is_none() {
        // Straight to stderr, past the test harness's capture, so the skip is seen.
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            b"\n*** SKIPPED: set TURBINE_TEST_REDIS_URL=redis://127.0.0.1:6379 ***\n\n",
        );
    }
    url
}

fn ip_of(peer: &str) -> &str {
    peer.rsplit_once(':').unwrap().0
}

/// Signs up from an address of its own (sign-ups are throttled per client address too).
async fn sign_up(probe: &Probe, client: &TestClient, email: &str) {
    client
        .post("/auth/signup")
        .peer(&probe.peer())
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .assert_status(202);
}

/// A token login from this client address.
async fn login_from(client: &TestClient, email: &str, password: &str, peer: &str) -> TestResponse {
    client
        .post("/auth/login")
        .peer(peer)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
}

async fn session_login(client: &TestClient, email: &str, peer: &str) -> TestResponse {
    client
        .post("/auth/login")
        .peer(peer)
        .json(&json!({"email": email, "password": PASSWORD, "mode": "session"}))
        .send()
        .await
}

/// The session cookie's value in a client's jar.
fn cookie_of(client: &TestClient) -> String {
    client
        .cookies()
        .into_iter()
        .find(|(k, _)| k == "turbine_session")
        .map(|(_, v)| v)
        .expect("a session cookie")
}

fn cookie_header(value: &str) -> String {
    format!("turbine_session={value}")
}

/// A session login.
struct Login {
    user_id: i64,
    csrf: String,
    /// The cookie's value.
    cookie: String,
    /// The session's Redis key.
    key: String,
}

/// Logs in with a session on `client` (which keeps the cookie).
async fn logged_in(probe: &Probe, client: &TestClient, email: &str) -> Login {
    let login = session_login(client, email, &probe.peer())
        .await
        .assert_status(200)
        .json::<Value>();
    let user_id = login["user"]["id"].as_i64().unwrap();
    let cookie = cookie_of(client);
    Login {
        user_id,
        csrf: s(&login, "csrf_token"),
        key: probe.session_key(&cookie, user_id),
        cookie,
    }
}

/// A probe, an app instance with these `[auth]` lines and a user signed up on it.
async fn one_instance(url: &str, db: &TestDb, auth: &str) -> (Probe, TestClient, String) {
    let probe = Probe::connect(url).await;
    let client = TestClient::new(redis_app(url, db, auth)).await.unwrap();
    let email = probe.email("ana");
    sign_up(&probe, &client, &email).await;
    (probe, client, email)
}

/// Asserts a TTL in milliseconds lies in `(expected - 15 s, expected]`.
fn assert_ttl_near(ttl: i64, expected: Duration, what: &str) {
    let expected = expected.as_millis() as i64;
    assert!(
        ttl <= expected && ttl > expected - 15_000,
        "{what}: TTL {ttl} ms, expected about {expected} ms"
    );
}

#[tokio::test]
async fn session_login_lives_in_redis_and_logout_removes_it() {
    let Some(url) = redis_url() else { return };
    for db in TestDb::all().await.unwrap() {
        let auth = "session_idle = '10m'\nsession_absolute = '1h'\n";
        let (probe, client, email) = one_instance(&url, &db, auth).await;

        let login = logged_in(&probe, &client, &email).await;
        assert!(
            probe.exists(&login.key).await,
            "{}: the session is in Redis",
            db.name()
        );
        let stored = probe.session(&login.key).await;
        assert_eq!(stored.user_id, Some(login.user_id));
        assert_eq!(stored.csrf_token, login.csrf);
        let index = format!("{USER_SESSIONS_PREFIX}{}", login.user_id);
        assert!(
            probe.is_member(&index, &token::hash(&login.cookie)).await,
            "the user's session index lists it"
        );
        // Idle (10 min) comes before absolute (1 h): the key lives 10 minutes.
        assert_ttl_near(
            probe.pttl(&login.key).await,
            Duration::from_secs(600),
            db.name(),
        );

        let me = client
            .get("/auth/me")
            .send()
            .await
            .assert_status(200)
            .json::<Value>();
        assert_eq!(me["email"], email.as_str());
        // The database holds no session: it is in Redis alone.
        let rows = Session::objects().count(db.db()).await.unwrap();
        assert_eq!(rows, 0, "{}: no session rows", db.name());

        client
            .post("/auth/logout")
            .header("x-csrf-token", &login.csrf)
            .send()
            .await
            .assert_status(204);
        assert!(!probe.exists(&login.key).await, "logout deleted the key");
        client
            .get("/auth/me")
            .header("cookie", &cookie_header(&login.cookie))
            .send()
            .await
            .assert_status(401);

        // Deleting the key in Redis ends a session: the app asks Redis on every request.
        let login = logged_in(&probe, &client, &email).await;
        client.get("/auth/me").send().await.assert_status(200);
        probe.del(&login.key).await;
        client.get("/auth/me").send().await.assert_status(401);

        db.close().await;
    }
}

/// Rewrites a stored session as if it had been created `age` ago and last seen `idle` ago,
/// with `left` to live.
async fn age_session(probe: &Probe, key: &str, age: i64, idle: i64, left: i64) {
    let mut data = probe.session(key).await;
    let now = Utc::now();
    data.created_at = now - chrono::Duration::minutes(age);
    data.last_seen_at = now - chrono::Duration::minutes(idle);
    data.expires_at = now + chrono::Duration::minutes(left);
    let ttl = Duration::from_secs(60 * left as u64);
    probe.put_session(key, &data, ttl).await;
}

#[tokio::test]
async fn session_ttl_follows_idle_and_absolute_expiry() {
    let Some(url) = redis_url() else { return };
    for db in TestDb::all().await.unwrap() {
        let auth = "session_idle = '10m'\nsession_absolute = '1h'\n";
        let (probe, client, email) = one_instance(&url, &db, auth).await;
        let Login { key, .. } = logged_in(&probe, &client, &email).await;
        let ttl = probe.pttl(&key).await;
        assert_ttl_near(ttl, Duration::from_secs(600), "at login");

        // Two minutes idle (past the once-a-minute write), 8 left: a request slides the idle
        // expiry, and the TTL with it.
        age_session(&probe, &key, 5, 2, 8).await;
        let before = Utc::now();
        client.get("/auth/me").send().await.assert_status(200);
        let touched = probe.session(&key).await;
        assert!(touched.last_seen_at >= before, "last_seen_at moved");
        assert_ttl_near(probe.pttl(&key).await, Duration::from_secs(600), "slid");

        // Near the absolute limit the slide stops at it: created 57 min ago, 3 min are left.
        age_session(&probe, &key, 57, 2, 3).await;
        client.get("/auth/me").send().await.assert_status(200);
        let capped = probe.session(&key).await;
        assert_eq!(
            capped.expires_at,
            capped.created_at + chrono::Duration::hours(1)
        );
        assert_ttl_near(probe.pttl(&key).await, Duration::from_secs(180), "capped");

        // Past the absolute limit: refused, and the key is deleted.
        age_session(&probe, &key, 61, 2, 1).await;
        client.get("/auth/me").send().await.assert_status(401);
        assert!(!probe.exists(&key).await, "the ended session was deleted");

        // Absolute (30 min) before idle (2 h): the key lives 30 minutes from login.
        let auth = "session_idle = '2h'\nsession_absolute = '30m'\n";
        let other = TestClient::new(redis_app(&url, &db, auth)).await.unwrap();
        let Login { key, .. } = logged_in(&probe, &other, &email).await;
        let ttl = probe.pttl(&key).await;
        assert_ttl_near(ttl, Duration::from_secs(1800), "absolute first");

        db.close().await;
    }
}

#[tokio::test]
async fn redis_expires_idle_sessions_itself() {
    let Some(url) = redis_url() else { return };
    for db in TestDb::all().await.unwrap() {
        let (probe, client, email) = one_instance(&url, &db, "session_idle = '2s'\n").await;
        let Login { key, .. } = logged_in(&probe, &client, &email).await;
        let ttl = probe.pttl(&key).await;
        assert!(ttl > 0 && ttl <= 2000, "{ttl}");
        client.get("/auth/me").send().await.assert_status(200);

        let deadline = Instant::now() + Duration::from_secs(6);
        while probe.exists(&key).await {
            assert!(Instant::now() < deadline, "Redis kept the key past its TTL");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        client.get("/auth/me").send().await.assert_status(401);

        db.close().await;
    }
}

/// Asserts a login was throttled: 429 problem+json with a `Retry-After` within the window.
fn assert_throttled(res: TestResponse, window_secs: u64) {
    let res = res.assert_status(429);
    let retry: u64 = res.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=window_secs).contains(&retry), "Retry-After: {retry}");
    assert_eq!(res.header("content-type"), Some("application/problem+json"));
    let body = res.json::<Value>();
    assert_eq!(body["status"], 429);
    assert_eq!(body["title"], "Too Many Requests");
}

#[tokio::test]
async fn two_instances_share_login_throttling() {
    let Some(url) = redis_url() else { return };
    let auth = "login_attempts_per_account = 3\nlogin_attempts_per_ip = 4\nlogin_window = '1m'\n";
    for db in TestDb::all().await.unwrap() {
        let probe = Probe::connect(&url).await;
        let a = TestClient::new(redis_app(&url, &db, auth)).await.unwrap();
        let b = TestClient::new(redis_app(&url, &db, auth)).await.unwrap();
        let email = probe.email("ana");
        sign_up(&probe, &a, &email).await;
        let account = format!("{THROTTLE_PREFIX}login:account:{}", token::hash(&email));

        // Per account: three failures spread over both instances (and addresses) lock it on
        // both, even with the right password.
        for (client, n) in [(&a, "1"), (&b, "2"), (&a, "3")] {
            login_from(client, &email, "wrong password", &probe.peer())
                .await
                .assert_status(401);
            let count = probe.get(&account).await;
            assert_eq!(count.as_deref(), Some(n), "{}", db.name());
        }
        let ttl = probe.pttl(&account).await;
        assert!(
            ttl > 0 && ttl <= 60_000,
            "the window is the key's TTL: {ttl}"
        );
        for client in [&b, &a] {
            assert_throttled(
                login_from(client, &email, PASSWORD, &probe.peer()).await,
                60,
            );
        }

        // The lock is in Redis alone: once the window ends (the key goes), the right password
        // gets in, and a success on one instance clears the count the other made.
        probe.del(&account).await;
        login_from(&a, &email, "wrong password", &probe.peer())
            .await
            .assert_status(401);
        assert_eq!(probe.get(&account).await.as_deref(), Some("1"));
        login_from(&b, &email, PASSWORD, &probe.peer())
            .await
            .assert_status(200);
        assert!(!probe.exists(&account).await, "a success resets the count");

        // Per address: failures on four accounts from one address, over both instances, stop
        // the next attempt from that address.
        let peer = probe.peer();
        let ip = format!("{THROTTLE_PREFIX}login:ip:{}", ip_of(&peer));
        for (i, client) in [&a, &b, &a, &b].into_iter().enumerate() {
            let nobody = probe.email(&format!("nobody{i}"));
            login_from(client, &nobody, "nope", &peer)
                .await
                .assert_status(401);
        }
        assert_eq!(probe.get(&ip).await.as_deref(), Some("4"));
        assert_throttled(login_from(&a, &email, PASSWORD, &peer).await, 60);
        // Another address is not affected.
        login_from(&b, &email, PASSWORD, &probe.peer())
            .await
            .assert_status(200);

        db.close().await;
    }
}

#[tokio::test]
async fn a_session_from_one_instance_works_on_another() {
    let Some(url) = redis_url() else { return };
    for db in TestDb::all().await.unwrap() {
        let probe = Probe::connect(&url).await;
        let a = TestClient::new(redis_app(&url, &db, "")).await.unwrap();
        let b = TestClient::new(redis_app(&url, &db, "")).await.unwrap();
        let email = probe.email("ana");
        sign_up(&probe, &a, &email).await;
        let login = logged_in(&probe, &a, &email).await;
        let cookie = cookie_header(&login.cookie);
        assert!(b.cookies().is_empty(), "B has no cookie of its own");

        // B knows the session A started, its user and CSRF token included.
        let me = b
            .get("/auth/me")
            .header("cookie", &cookie)
            .send()
            .await
            .assert_status(200)
            .json::<Value>();
        assert_eq!(me["id"], login.user_id, "{}", db.name());
        let written = b
            .post("/write")
            .header("cookie", &cookie)
            .header("x-csrf-token", &login.csrf)
            .json(&json!({}))
            .send()
            .await
            .assert_status(200);
        assert_eq!(written.text(), format!("written by {}", login.user_id));
        b.post("/write")
            .header("cookie", &cookie)
            .header("x-csrf-token", "wrong")
            .json(&json!({}))
            .send()
            .await
            .assert_status(403);
        // An access token from A works on B as well (one secret, no state on the node).
        // (Sent without the cookie: a login from a browser with a session is CSRF-checked.)
        let tokens = a
            .post("/auth/login")
            .peer(&probe.peer())
            .header("cookie", "")
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .assert_status(200)
            .json::<Value>();
        let who = b
            .get("/whoami")
            .bearer(&s(&tokens, "access_token"))
            .send()
            .await
            .assert_status(200);
        assert_eq!(who.text(), format!("user {}", login.user_id));

        // Logging out on B ends the session on A.
        b.post("/auth/logout")
            .header("cookie", &cookie)
            .header("x-csrf-token", &login.csrf)
            .send()
            .await
            .assert_status(204);
        assert!(!probe.exists(&login.key).await);
        assert!(a.cookies().iter().any(|(k, _)| k == "turbine_session"));
        a.get("/auth/me").send().await.assert_status(401);

        db.close().await;
    }
}

/// Deletes every key under a test's own `auth.redis_prefix`.
async fn delete_prefixed(probe: &Probe, prefix: &str) {
    let keys: Vec<String> = probe
        .query(redis::cmd("KEYS").arg(format!("{prefix}*")))
        .await;
    for key in keys {
        probe.del(&key).await;
    }
}

#[tokio::test]
async fn apps_with_their_own_prefix_do_not_share_sessions() {
    let Some(url) = redis_url() else { return };
    let probe = Probe::connect(&url).await;
    // Two apps, two databases (both with a user 1), one Redis database.
    let (db_x, db_y) = (
        TestDb::sqlite().await.unwrap(),
        TestDb::sqlite().await.unwrap(),
    );
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let (px, py) = (format!("x{tag}:"), format!("y{tag}:"));
    let x = TestClient::new(redis_app(&url, &db_x, &format!("redis_prefix = '{px}'")))
        .await
        .unwrap();
    let y = TestClient::new(redis_app(&url, &db_y, &format!("redis_prefix = '{py}'")))
        .await
        .unwrap();
    let email = probe.email("ana");
    for app in [&x, &y] {
        sign_up(&probe, app, &email).await;
        let login = session_login(app, &email, &probe.peer())
            .await
            .assert_status(200)
            .json::<Value>();
        assert_eq!(login["user"]["id"], 1, "both apps have a user 1");
    }
    let index: Vec<String> = probe
        .query(redis::cmd("SMEMBERS").arg(format!("{px}user-sessions:1")))
        .await;
    assert_eq!(index.len(), 1, "x's index holds x's session only");
    let listed = x.get("/auth/sessions").send().await.assert_status(200);
    assert_eq!(listed.json::<Value>().as_array().unwrap().len(), 1);

    // Signing out everywhere on x leaves y's user signed in.
    let csrf = x.get("/auth/csrf").send().await.json::<Value>();
    x.post("/auth/logout-all")
        .header("x-csrf-token", &s(&csrf, "csrf_token"))
        .send()
        .await
        .assert_status(204);
    x.get("/auth/me").send().await.assert_status(401);
    y.get("/auth/me").send().await.assert_status(200);

    delete_prefixed(&probe, &px).await;
    delete_prefixed(&probe, &py).await;
    db_x.close().await;
    db_y.close().await;
}
