//! The app binary's command line: every app is its own `manage.py`.

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use tokio::net::TcpListener;
use turbine_core::battery::SetupParts;
use turbine_core::check::{CheckScope, Level};
use turbine_core::config::Config;
use turbine_core::context::Invocation;
use turbine_core::{Error, Result};

use crate::app::{App, start};

/// Built-in commands.
#[derive(Parser, Debug)]
#[command(about = "A Turbine app. Without a command, `serve`.", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Builtin>,
}

#[derive(Subcommand, Debug)]
enum Builtin {
    /// Serve HTTP (the default).
    Serve(ServeArgs),
    /// List the routes: method, path, handler.
    Routes,
    /// Print the effective configuration, secrets redacted, with the source of each value.
    Config,
    /// Run the system checks; `--deploy` adds production risks. Exits 1 on errors.
    Check {
        /// Also report production risks.
        #[arg(long)]
        deploy: bool,
    },
}

#[derive(Args, Debug, Default)]
struct ServeArgs {
    /// Interface to bind (overrides `server.host`).
    #[arg(long)]
    host: Option<String>,
    /// Port (overrides `server.port`).
    #[arg(long)]
    port: Option<u16>,
    /// Tokio worker threads (overrides `server.workers`; default: one per core).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    workers: Option<u16>,
}

/// Runs the app as a command-line program; prints errors and exits 1 on failure.
pub(crate) async fn run(app: App) -> Result<()> {
    match dispatch(app).await {
        Ok(0) => Ok(()),
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}

async fn dispatch(app: App) -> Result<i32> {
    let config = match app.preset_config() {
        Some(c) => c,
        None => Config::load()?,
    };
    let mut parts = app.assemble(config.clone())?;
    let mut cmd = Cli::command();
    if let Some(name) = std::env::args().next().as_deref().and_then(bin_name) {
        cmd = cmd.bin_name(name);
    }
    for c in &parts.commands {
        cmd = cmd.subcommand(c.definition().clone());
    }
    let matches = cmd.get_matches();
    if let Some((name, sub)) = matches.subcommand()
        && let Some(i) = parts
            .commands
            .iter()
            .position(|c| c.definition().get_name() == name)
    {
        let command = parts.commands.swap_remove(i);
        let sub = sub.clone();
        crate::observability::init_logging(&config)?;
        let built = start(parts, Invocation::Command(name.to_string())).await?;
        let ctx = built.context().clone();
        let result = command.run(ctx, sub).await;
        built.shutdown().await;
        return result.map(|()| 0);
    }
    let cli = Cli::from_arg_matches(&matches).map_err(|e| Error::Usage(e.to_string()))?;
    match cli.command.unwrap_or(Builtin::Serve(ServeArgs::default())) {
        Builtin::Serve(args) => serve(parts, args).await.map(|()| 0),
        Builtin::Routes => {
            print!("{}", routes_table(&parts));
            Ok(0)
        }
        Builtin::Config => {
            print!("{}", config.render());
            Ok(0)
        }
        Builtin::Check { deploy } => Ok(check(&parts, deploy)),
    }
}

fn bin_name(arg0: &str) -> Option<String> {
    std::path::Path::new(arg0)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
}

async fn serve(parts: SetupParts, args: ServeArgs) -> Result<()> {
    let config = parts.config.clone();
    crate::observability::init_logging(&config)?;
    let s = config.settings();
    if config.secret_key_generated() && !config.profile().is_test() {
        // Printed in `dev` only: a local, throwaway key, handy to copy into turbine.toml. Other
        // profiles (a `staging` whose logs leave the machine) never see the live key in a log.
        let suggestion = if config.profile().name() == "dev" {
            format!(
                "this one, generated for you: {}",
                config.secret_key().expose()
            )
        } else {
            "the output of `openssl rand -hex 32`".to_string()
        };
        tracing::warn!(
            "no secret_key configured: a random one is used for this process only (sessions and tokens will not \
             survive a restart). Set TURBINE_SECRET_KEY or secret_key in turbine.toml to at least 32 random \
             characters, e.g. {suggestion}"
        );
    }
    let host = args.host.unwrap_or_else(|| s.server.host.clone());
    let port = args.port.unwrap_or(s.server.port);
    let workers = args.workers.map(usize::from).or(s.server.workers);
    let work = async move {
        // Bind first: a port in use fails before any battery connects to anything.
        let listener = TcpListener::bind((host.as_str(), port))
            .await
            .map_err(|e| Error::other(format!("cannot listen on {host}:{port}"), e))?;
        let built = start(parts, Invocation::Serve).await?;
        let addr = listener.local_addr()?;
        tracing::info!(profile = %built.context().config().profile(), "listening on http://{addr}");
        built
            .serve(listener, crate::server::shutdown_signal())
            .await
    };
    match workers {
        None => work.await,
        Some(n) => {
            // The runtime of `#[tokio::main]` already exists; serve on one with `n` workers.
            let (tx, rx) = tokio::sync::oneshot::channel();
            std::thread::Builder::new()
                .name("turbine-server".into())
                .spawn(move || {
                    let result = tokio::runtime::Builder::new_multi_thread()
                        .worker_threads(n)
                        .enable_all()
                        .build()
                        .map_err(Error::from)
                        .and_then(|rt| rt.block_on(work));
                    let _ = tx.send(result);
                })?;
            rx.await
                .map_err(|e| Error::other("the server thread stopped", e))?
        }
    }
}

fn routes_table(parts: &SetupParts) -> String {
    let rows: Vec<[&str; 3]> = parts
        .route_info
        .iter()
        .map(|r| [r.method.as_str(), r.path.as_str(), r.handler.as_str()])
        .collect();
    let w0 = rows.iter().map(|r| r[0].len()).max().unwrap_or(0).max(6);
    let w1 = rows.iter().map(|r| r[1].len()).max().unwrap_or(0).max(4);
    let mut out = format!("{:<w0$}  {:<w1$}  HANDLER\n", "METHOD", "PATH");
    for [m, p, h] in rows {
        out.push_str(&format!("{m:<w0$}  {p:<w1$}  {h}\n"));
    }
    out
}

/// Prints the findings; returns the exit code (1 when any is an error).
fn check(parts: &SetupParts, deploy: bool) -> i32 {
    let scope = CheckScope {
        config: &parts.config,
        deploy,
    };
    let mut findings = crate::checks::core_checks(scope);
    for c in &parts.system_checks {
        findings.extend(c(scope));
    }
    findings.sort_by(|a, b| b.level.cmp(&a.level).then(a.id.cmp(&b.id)));
    for f in &findings {
        println!("{f}");
    }
    let errors = findings.iter().filter(|f| f.level == Level::Error).count();
    match findings.len() {
        0 => println!("System check identified no issues."),
        n => println!(
            "System check identified {n} issue(s): {errors} error(s), {} warning(s).",
            n - errors
        ),
    }
    i32::from(errors > 0)
}
