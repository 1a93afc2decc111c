//! The `chirp` binary as the README runs it: serve on the embedded defaults, answer, stop cleanly
//! on SIGTERM; and the management commands.

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
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
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

#[test]
fn a_fresh_folder_migrates_seeds_and_serves_data() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = chirp().current_dir(dir.path()).args(args).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {text}");
        text
    };
    assert!(run(&["showmigrations"]).contains("[ ] 0001_initial"));
    assert!(run(&["migrate"]).contains("Applying 0001_initial"));
    assert!(run(&["showmigrations"]).contains("[X] 0001_initial"));
    assert!(run(&["seed"]).contains("Seeded"));
    assert!(dir.path().join("chirp.db").exists());

    let port = free_port();
    let mut server = chirp()
        .current_dir(dir.path())
        .args(["serve", "--port", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let body = loop {
        match get(port, "/profiles/ada") {
            Ok(r) if r.starts_with("HTTP/1.1 200") => break r,
            _ if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            other => panic!("no answer: {other:?}"),
        }
    };
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(body.contains("\"display_name\":\"Ada Lovelace\""), "{body}");
}
