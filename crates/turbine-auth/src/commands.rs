//! `createsuperuser`, `changepassword` and `clearsessions`.

use std::io::{BufRead, IsTerminal, Write};

use chrono::Utc;
use clap::{Arg, ArgAction, ArgMatches};
use turbine_core::battery::Command;
use turbine_core::context::Context;
use turbine_orm::ModelExt;

use crate::models::{OneTimeToken, RefreshToken};
use crate::service::AuthService;
use crate::{Error, FieldError};

/// The variable `createsuperuser --no-input` reads the password from.
pub const PASSWORD_ENV: &str = "TURBINE_SUPERUSER_PASSWORD";

/// A message for the person at the terminal (`error: password: This password is too common.`).
fn fail(message: impl Into<String>) -> turbine_core::Error {
    turbine_core::Error::Usage(message.into())
}

fn explain(e: Error) -> turbine_core::Error {
    match e {
        Error::Validation(errors) => fail(
            errors
                .iter()
                .map(|FieldError { field, message }| format!("{field}: {message}"))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        e => turbine_core::Error::other("auth", e),
    }
}

/// The auth service, once the database has the battery's tables (else "run `migrate` first").
async fn service(ctx: &Context) -> turbine_core::Result<AuthService> {
    turbine_orm::migrate::require_migrated(ctx).await?;
    Ok(ctx.require::<AuthService>()?.clone())
}

fn prompt(label: &str) -> turbine_core::Result<String> {
    print!("{label}: ");
    std::io::stdout().flush().ok();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| fail(format!("reading {label}: {e}")))?;
    Ok(line.trim().to_string())
}

fn read_stdin_password() -> turbine_core::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| fail(format!("reading the password from stdin: {e}")))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Asks twice without echo.
fn prompt_password() -> turbine_core::Result<String> {
    if !std::io::stdin().is_terminal() {
        return Err(fail(format!(
            "no terminal to ask for the password: pass --password-stdin, or --no-input with {PASSWORD_ENV} set"
        )));
    }
    let first = rpassword::prompt_password("Password: ")
        .map_err(|e| fail(format!("reading the password: {e}")))?;
    let again = rpassword::prompt_password("Password (again): ")
        .map_err(|e| fail(format!("reading the password: {e}")))?;
    if first != again {
        return Err(fail("the two passwords differ"));
    }
    Ok(first)
}

fn password_from(args: &ArgMatches, no_input: bool) -> turbine_core::Result<String> {
    if args.get_flag("password-stdin") {
        read_stdin_password()
    } else if no_input {
        std::env::var(PASSWORD_ENV)
            .ok()
            .filter(|p| !p.is_empty())
            .ok_or_else(|| {
                fail(format!(
                    "--no-input needs the password in {PASSWORD_ENV} (or use --password-stdin)"
                ))
            })
    } else {
        prompt_password()
    }
}

/// The battery's commands.
pub(crate) fn commands() -> Vec<Command> {
    vec![
        Command::new(
            clap::Command::new("createsuperuser")
                .about("Create a user with every permission (staff and superuser)")
                .arg(Arg::new("email").long("email").help("The email address (asked if missing)"))
                .arg(Arg::new("name").long("name").help("The name shown to people"))
                .arg(
                    Arg::new("no-input")
                        .long("no-input")
                        .action(ArgAction::SetTrue)
                        .help(format!("Ask nothing: --email is required, the password comes from {PASSWORD_ENV}")),
                )
                .arg(
                    Arg::new("password-stdin")
                        .long("password-stdin")
                        .action(ArgAction::SetTrue)
                        .help("Read the password from the first line of stdin"),
                ),
            |ctx, args| async move {
                let auth = service(&ctx).await?;
                let no_input = args.get_flag("no-input");
                let email = match args.get_one::<String>("email") {
                    Some(e) => e.clone(),
                    None if no_input => return Err(fail("--no-input needs --email")),
                    None => prompt("Email address")?,
                };
                let name = args.get_one::<String>("name").cloned().unwrap_or_default();
                let password = password_from(&args, no_input)?;
                let user = auth
                    .create_user(&email, Some(&password), |u| {
                        u.name = name;
                        u.is_staff = true;
                        u.is_superuser = true;
                        u.email_verified_at = Some(Utc::now());
                    })
                    .await
                    .map_err(explain)?;
                println!("Superuser {} created (id {}).", user.email, user.id);
                Ok(())
            },
        ),
        Command::new(
            clap::Command::new("changepassword")
                .about("Change a user's password (their sessions and devices are signed out)")
                .arg(Arg::new("email").required(true).help("The user's email address"))
                .arg(
                    Arg::new("password-stdin")
                        .long("password-stdin")
                        .action(ArgAction::SetTrue)
                        .help("Read the password from the first line of stdin"),
                ),
            |ctx, args| async move {
                let auth = service(&ctx).await?;
                let email = args.get_one::<String>("email").cloned().unwrap_or_default();
                let mut user = auth
                    .find_by_email(&email)
                    .await
                    .map_err(explain)?
                    .ok_or_else(|| fail(format!("no user has the email address `{email}`")))?;
                let password = password_from(&args, false)?;
                auth.set_password(&mut user, &password, None, None)
                    .await
                    .map_err(explain)?;
                println!("Password changed for {}.", user.email);
                Ok(())
            },
        ),
        Command::new(
            clap::Command::new("clearsessions")
                .about("Delete expired sessions, refresh tokens and used or expired links"),
            |ctx, _args| async move {
                let auth = service(&ctx).await?;
                let now = Utc::now();
                let sessions = auth.sessions().clear_expired().await.map_err(explain)?;
                let refresh = RefreshToken::objects()
                    .filter(RefreshToken::EXPIRES_AT.lte(now))
                    .delete(auth.db())
                    .await
                    .map_err(|e| explain(e.into()))?;
                let links = OneTimeToken::objects()
                    .filter(OneTimeToken::EXPIRES_AT.lte(now) | OneTimeToken::USED_AT.is_not_null())
                    .delete(auth.db())
                    .await
                    .map_err(|e| explain(e.into()))?;
                println!(
                    "Deleted {sessions} expired sessions, {refresh} expired refresh tokens and {links} used or expired links."
                );
                Ok(())
            },
        ),
    ]
}
