//! The `chirp` binary as the README runs it: serve on the embedded defaults, answer, stop cleanly
//! on SIGTERM; and the management commands (the core's, the ORM's and the auth battery's).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn chirp() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_chirp"));
    // A clean environment (only what the test sets) in a fresh folder, where the default
    // `sqlite://chirp.db` is created.
    let dir = tempfile::tempdir().unwrap().keep();
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(dir);
    cmd
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn get(port: u16, path: &str) -> std::io::Result<String> {
    request(port, "GET", path, None, None)
}

/// One HTTP/1.1 request (a JSON body if given): the raw response.
fn request(
    port: u16,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    json: Option<&str>,
) -> std::io::Result<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    if let Some(token) = bearer {
        head += &format!("Authorization: Bearer {token}\r\n");
    }
    let body = json.unwrap_or_default();
    if json.is_some() {
        head += &format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        );
    }
    write!(s, "{head}\r\n{body}")?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

/// The string value of `"key":"…"` in a JSON response.
fn json_str<'a>(response: &'a str, key: &str) -> &'a str {
    let start = response
        .find(&format!("\"{key}\":\""))
        .unwrap_or_else(|| panic!("no {key} in {response}"))
        + key.len()
        + 4;
    let len = response[start..].find('"').unwrap();
    &response[start..start + len]
}

/// Serves Chirp from `dir` on a free port until the returned guard is dropped.
struct Server {
    child: std::process::Child,
    port: u16,
}

impl Server {
    fn start(dir: &std::path::Path) -> Self {
        let port = free_port();
        let child = chirp()
            .current_dir(dir)
            .args(["serve", "--port", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = Server { child, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match get(port, "/health/ready") {
                Ok(r) if r.starts_with("HTTP/1.1 200") => return server,
                _ if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
                other => panic!("no answer: {other:?}"),
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn serves_then_stops_cleanly_on_sigterm() {
    let port = free_port();
    let mut child = chirp()
        .args(["serve", "--port", &port.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let response = loop {
        match get(port, "/health/ready") {
            Ok(r) => break r,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => {
                let _ = child.kill();
                panic!("chirp did not start: {e}");
            }
        }
    };
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let index = get(port, "/").unwrap();
    assert!(index.contains("\"name\":\"chirp\""), "{index}");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "chirp did not stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(exit.code(), Some(0), "{stderr}");
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    assert!(
        stdout.contains("no secret_key configured") && stdout.contains("generated for you: "),
        "dev prints the generated key once: {stdout}"
    );
    assert!(
        stdout.contains("listening on http://127.0.0.1:"),
        "{stdout}"
    );
    assert!(get(port, "/").is_err(), "the port is closed after shutdown");
}

#[test]
fn routes_lists_method_path_and_handler() {
    let out = chirp().arg("routes").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("METHOD"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("GET") && l.contains(" / ") && l.ends_with("chirp::index")),
        "{text}"
    );
    assert!(text.contains("/health/ready"), "{text}");
}

#[test]
fn config_shows_sources_and_redacts_secrets() {
    let out = chirp()
        .arg("config")
        .env(
            "TURBINE_SECRET_KEY",
            "a-very-secret-value-that-must-not-be-printed",
        )
        .env("TURBINE_SERVER__PORT", "9123")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("a-very-secret-value"), "{text}");
    assert!(text.contains("secret_key = \"***\""), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("port = 9123") && l.contains("TURBINE_SERVER__PORT")),
        "{text}"
    );
}

#[test]
fn bad_config_stops_start_up_naming_key_and_source() {
    let out = chirp()
        .arg("routes")
        .env("TURBINE_SERVER__PORT", "eighty")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("server.port") && err.contains("TURBINE_SERVER__PORT") && err.contains("u16"),
        "{err}"
    );
}

#[test]
fn prod_requires_a_secret_key() {
    let out = chirp()
        .arg("routes")
        .env("TURBINE_ENV", "prod")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("secret_key") && err.contains("TURBINE_SECRET_KEY"),
        "{err}"
    );
}

#[test]
fn check_deploy_reports_production_risks() {
    let out = chirp().args(["check", "--deploy"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "dev settings are not deployable"
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("security.E001") && text.contains("debug is on"),
        "{text}"
    );
    assert!(text.contains("security.E002"), "{text}");

    let out = chirp()
        .args(["check", "--deploy"])
        .env("TURBINE_ENV", "prod")
        .env("TURBINE_SECRET_KEY", "Zx8v2Qm4Lp9Rt6Yw1Nc3Hb7Kd5Fg0Js2")
        .env("TURBINE_SERVER__ALLOWED_HOSTS", "[\"api.chirp.example\"]")
        .env(
            "TURBINE_DATABASE__URL",
            "postgres://chirp@db.internal/chirp",
        )
        .env("TURBINE_MAIL__URL", "smtp://chirp:secret@mail.internal:587")
        .env(
            "TURBINE_AUTH__VERIFY_EMAIL_URL",
            "https://chirp.example/verify?token={token}",
        )
        .env(
            "TURBINE_AUTH__RESET_PASSWORD_URL",
            "https://chirp.example/reset-password?token={token}",
        )
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("no issues"), "{text}");

    // The same on the embedded SQLite default: a warning, not an error.
    let out = chirp()
        .args(["check", "--deploy"])
        .env("TURBINE_ENV", "prod")
        .env("TURBINE_SECRET_KEY", "Zx8v2Qm4Lp9Rt6Yw1Nc3Hb7Kd5Fg0Js2")
        .env("TURBINE_SERVER__ALLOWED_HOSTS", "[\"api.chirp.example\"]")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("orm.W001"), "{text}");
    assert!(
        text.contains("mail.W001"),
        "account mail to the console: {text}"
    );

    let out = chirp()
        .args(["check", "--deploy"])
        .env("TURBINE_ENV", "prod")
        .env("TURBINE_SECRET_KEY", "changeme-changeme-changeme-changeme")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("security.E003") && text.contains("security.W001"),
        "{text}"
    );
}

#[test]
fn unknown_command_is_a_usage_error() {
    let out = chirp().arg("frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("frobnicate"), "{err}");
}

/// Runs the binary in `dir` with `stdin`: success, and stdout + stderr.
fn run_in(dir: &std::path::Path, args: &[&str], stdin: &str) -> (bool, String) {
    let mut child = chirp()
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn a_fresh_folder_migrates_seeds_and_serves_data() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let (ok, text) = run_in(dir.path(), args, "");
        assert!(ok, "{args:?}: {text}");
        text
    };
    // The batteries' migrations come first (auth: Chirp's profiles point at its users; api:
    // idempotency keys; admin: its log).
    assert_eq!(
        run(&["showmigrations"]),
        "[ ] auth.0001_initial\n[ ] api.0001_initial\n[ ] admin.0001_initial\n[ ] 0001_initial\n\
         [ ] 0002_chirp_post_body_trgm\n"
    );
    let migrated = run(&["migrate"]);
    let (auth, own) = (
        migrated.find("Applying auth.0001_initial").unwrap(),
        migrated.find("Applying 0001_initial").unwrap(),
    );
    assert!(auth < own, "{migrated}");
    assert_eq!(
        run(&["showmigrations"]),
        "[X] auth.0001_initial\n[X] api.0001_initial\n[X] admin.0001_initial\n[X] 0001_initial\n\
         [X] 0002_chirp_post_body_trgm\n"
    );
    let seeded = run(&["seed"]);
    assert!(seeded.contains("Seeded"), "{seeded}");
    assert!(seeded.contains("ada@example.com"), "{seeded}");
    assert!(dir.path().join("chirp.db").exists());

    let server = Server::start(dir.path());
    let body = get(server.port, "/profiles/ada").unwrap();
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
    assert!(body.contains("\"display_name\":\"Ada Lovelace\""), "{body}");
    // A demo account logs in for tokens and posts as its profile.
    let login = request(
        server.port,
        "POST",
        "/auth/login",
        None,
        Some(&format!(
            r#"{{"email": "ada@example.com", "password": "{}"}}"#,
            chirp::seed::DEMO_PASSWORD
        )),
    )
    .unwrap();
    assert!(login.starts_with("HTTP/1.1 200"), "{login}");
    let token = json_str(&login, "access_token");
    let post = request(
        server.port,
        "POST",
        "/posts",
        Some(token),
        Some(r#"{"body": "hello from the binary"}"#),
    )
    .unwrap();
    assert!(post.starts_with("HTTP/1.1 201"), "{post}");
    assert!(
        post.contains("\"body\":\"hello from the binary\""),
        "{post}"
    );
    let mine = get(server.port, "/posts?author__handle=ada&expand=author").unwrap();
    assert!(
        mine.contains("\"body\":\"hello from the binary\""),
        "{mine}"
    );
    assert!(mine.contains("\"handle\":\"ada\""), "{mine}");
    // The API is documented by the running binary.
    let doc = get(server.port, "/openapi.json").unwrap();
    assert!(
        doc.starts_with("HTTP/1.1 200") && doc.contains("\"openapi\":\"3.1.0\""),
        "{doc}"
    );
}

#[test]
fn account_commands_manage_users_from_the_shell() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], stdin: &str| run_in(dir.path(), args, stdin);
    assert!(run(&["migrate"], "").0);

    let create = [
        "createsuperuser",
        "--email",
        "admin@chirp.example",
        "--name",
        "Admin",
        "--no-input",
        "--password-stdin",
    ];
    let (ok, text) = run(&create, "first long passphrase\n");
    assert!(ok, "{text}");
    assert!(
        text.contains("Superuser admin@chirp.example created"),
        "{text}"
    );
    let (ok, text) = run(&create, "first long passphrase\n");
    assert!(!ok && text.contains("already exists"), "{text}");
    let weak = [
        "createsuperuser",
        "--email",
        "weak@chirp.example",
        "--no-input",
        "--password-stdin",
    ];
    let (ok, text) = run(&weak, "123\n");
    assert!(!ok && text.contains("This password is too short"), "{text}");
    let (ok, text) = run(&["createsuperuser", "--no-input"], "");
    assert!(!ok && text.contains("--email"), "{text}");

    let change = ["changepassword", "admin@chirp.example", "--password-stdin"];
    let (ok, text) = run(&change, "second long passphrase\n");
    assert!(ok, "{text}");
    assert!(
        text.contains("Password changed for admin@chirp.example."),
        "{text}"
    );
    let (ok, text) = run(
        &["changepassword", "nobody@chirp.example", "--password-stdin"],
        "whatever long enough\n",
    );
    assert!(
        !ok && text.contains("no user has the email address"),
        "{text}"
    );

    let (ok, text) = run(&["clearsessions"], "");
    assert!(ok, "{text}");
    assert!(
        text.contains(
            "Deleted 0 expired sessions, 0 expired refresh tokens and 0 used or expired links."
        ),
        "{text}"
    );

    // The served app knows the account, with the changed password.
    let server = Server::start(dir.path());
    let login = |password: &str| {
        request(
            server.port,
            "POST",
            "/auth/login",
            None,
            Some(&format!(
                r#"{{"email": "admin@chirp.example", "password": "{password}"}}"#
            )),
        )
        .unwrap()
    };
    let old = login("first long passphrase");
    assert!(old.starts_with("HTTP/1.1 401"), "{old}");
    let new = login("second long passphrase");
    assert!(new.starts_with("HTTP/1.1 200"), "{new}");
    assert!(new.contains("\"is_superuser\":true"), "{new}");
    let me = request(
        server.port,
        "GET",
        "/auth/me",
        Some(json_str(&new, "access_token")),
        None,
    )
    .unwrap();
    assert!(me.contains("\"name\":\"Admin\""), "{me}");
}

#[test]
fn commands_on_an_unmigrated_database_say_to_migrate_first() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &[
            "createsuperuser",
            "--no-input",
            "--email",
            "boss@example.com",
        ][..],
        &["seed"][..],
    ] {
        let (ok, text) = run_in(dir.path(), args, "");
        assert!(!ok, "{args:?} should fail on a fresh database");
        assert!(
            text.contains("the database is not migrated") && text.contains("migrate` first"),
            "{args:?}: {text}"
        );
    }
    let (ok, text) = run_in(dir.path(), &["migrate"], "");
    assert!(ok, "{text}");
    let (ok, text) = run_in(dir.path(), &["seed"], "");
    assert!(ok, "{text}");
}
