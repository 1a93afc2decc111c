//! The migration commands of the app binary: `makemigrations`, `migrate`, `rollback`,
//! `showmigrations`, `sqlmigrate`. Each is a function writing plain text (testable), wrapped in
//! a clap command by [`commands`].

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Arg, ArgAction, ArgMatches};
use turbine_core::battery::Command;
use turbine_core::context::Context;

use super::apply::{self, AppliedMigration, MigrateOptions, Report};
use super::autodetect;
use super::file::{Migration, MigrationSet};
use super::operation::Operation;
use super::progress::Progress;
use super::rename::Renames;
use super::writer;
use crate::backend::Dialect;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::meta::Registry;

/// What the commands need: the migrations folder, the migrations embedded in the binary (used
/// by `migrate` and friends when given; `makemigrations` always reads the folder), the models.
#[derive(Debug, Clone)]
pub struct MigrationConfig {
    /// The migrations folder (`migrations`, relative to where the binary runs).
    pub dir: PathBuf,
    /// Migrations embedded with [`migrations!`](crate::migrations).
    pub embedded: Option<MigrationSet>,
    /// The app's models (with the batteries').
    pub registry: Registry,
    /// Batteries' migrations ([`MigrationSet::qualified`]), applied before the app's.
    pub base: Vec<MigrationSet>,
}

impl MigrationConfig {
    /// Migrations in `dir`, models from `registry`.
    pub fn new(dir: impl Into<PathBuf>, registry: Registry) -> Self {
        Self {
            dir: dir.into(),
            embedded: None,
            registry,
            base: Vec::new(),
        }
    }

    /// Batteries' migrations, applied before the app's (in this order).
    pub fn base(mut self, sets: Vec<MigrationSet>) -> Self {
        self.base = sets;
        self
    }

    /// Applies these (embedded) migrations instead of reading the folder at run time.
    pub fn embedded(mut self, set: MigrationSet) -> Self {
        self.embedded = Some(set);
        self
    }

    /// The migrations to apply: the batteries', then the app's (the embedded ones, else the
    /// folder's).
    pub fn set(&self) -> Result<MigrationSet> {
        let app = match &self.embedded {
            Some(set) => set.clone(),
            None => MigrationSet::from_dir(&self.dir)?,
        };
        self.on_base(app)
    }

    /// `app` after the batteries' migrations, as one set.
    fn on_base(&self, app: MigrationSet) -> Result<MigrationSet> {
        if self.base.is_empty() {
            // Checked from scratch: an operation on a model no migration creates, or a
            // dependency on a migration that is not there, fails here.
            return MigrationSet::combine([app]);
        }
        let base = MigrationSet::combine(self.base.iter().cloned())?;
        let app = app.on(base.state())?;
        MigrationSet::combine([base, app])
    }
}

/// Options of `makemigrations`.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct MakeOptions {
    /// The name after the number (default: made from the operations).
    pub name: Option<String>,
    /// Print what would be written; write nothing.
    pub dry_run: bool,
    /// Write a migration without operations, to fill in by hand (raw SQL).
    pub empty: bool,
    /// How likely renames are decided.
    pub renames: Renames,
}

impl MakeOptions {
    /// Defaults: auto name, write the file, renames decided by flags only.
    pub fn new() -> Self {
        Self::default()
    }

    /// The renames.
    pub fn renames(mut self, renames: Renames) -> Self {
        self.renames = renames;
        self
    }

    /// The name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Dry run.
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// An empty migration.
    pub fn empty(mut self, empty: bool) -> Self {
        self.empty = empty;
        self
    }
}

fn w(out: &mut dyn Write, text: std::fmt::Arguments<'_>) -> Result<()> {
    out.write_fmt(text)
        .map_err(|e| Error::Migration(format!("writing output: {e}")))
}

/// The latest migration of each other set (`auth.…`) whose models `operations` change or
/// point at.
fn base_dependencies(base: &MigrationSet, operations: &[Operation]) -> Vec<String> {
    let mut labels: Vec<&str> = Vec::new();
    let mut fields = Vec::new();
    for op in operations {
        labels.extend(op.model_label());
        match op {
            Operation::CreateModel { model } => fields.extend(&model.fields),
            Operation::AddField { field, .. } | Operation::AlterField { field, .. } => {
                fields.push(field)
            }
            _ => {}
        }
    }
    labels.extend(
        fields
            .iter()
            .filter_map(|f| f.relation.as_ref())
            .map(|r| r.to.as_str()),
    );
    let mut deps: Vec<String> = Vec::new();
    for label in labels {
        let Some(app) = base.state().get(label).map(|m| m.app.clone()) else {
            continue;
        };
        let prefix = format!("{app}.");
        if let Some(last) = base
            .migrations()
            .iter()
            .rev()
            .find(|m| m.name.starts_with(&prefix))
            && !deps.contains(&last.name)
        {
            deps.push(last.name.clone());
        }
    }
    deps
}

/// Diffs the models against the folder's migrations and writes the next migration (or says
/// `No changes detected`). Returns the migration written (or that would be, on a dry run).
pub fn makemigrations(
    config: &MigrationConfig,
    options: MakeOptions,
    out: &mut dyn Write,
) -> Result<Option<Migration>> {
    let set = MigrationSet::from_dir(&config.dir)?;
    // The app's own migrations, replayed on what the batteries' leave (their models are not
    // the app's to migrate, but the app's may point at them).
    let base = MigrationSet::combine(config.base.iter().cloned())?;
    let set = set.on(base.state())?;
    let mut renames = options.renames;
    let operations = if options.empty {
        Vec::new()
    } else {
        autodetect::detect(set.state(), &config.registry, &mut renames)?
    };
    let unused = renames.unused();
    if !unused.is_empty() {
        return Err(Error::Migration(format!(
            "--rename {} matched no likely rename (a removed and an added model or field of the same definition)",
            unused.join(", --rename ")
        )));
    }
    if operations.is_empty() && !options.empty {
        w(out, format_args!("No changes detected\n"))?;
        return Ok(None);
    }
    let name = options
        .name
        .as_deref()
        .or(options.empty.then_some("custom"));
    let mut migration = writer::next_migration(&set, operations, name)?;
    // Like Django: a migration that touches or points at a battery's models depends on that
    // battery's latest migration, so the order is written down, not implied.
    for dep in base_dependencies(&base, &migration.operations) {
        if !migration.dependencies.contains(&dep) {
            migration.dependencies.push(dep);
        }
    }
    let path = config.dir.join(format!("{}.json", migration.name));
    if options.dry_run {
        w(out, format_args!("Would write {}:\n", path.display()))?;
    } else {
        writer::write(&config.dir, &migration)?;
        w(out, format_args!("Migrations:\n  {}\n", path.display()))?;
    }
    let mut state = set.state().clone();
    let mut destructive = Vec::new();
    for op in &migration.operations {
        w(out, format_args!("    - {}\n", op.describe()))?;
        if op.is_destructive(&state) {
            destructive.push(op.describe());
        }
        op.apply_to_state(&mut state)?;
    }
    if !destructive.is_empty() {
        w(
            out,
            format_args!(
                "Warning: these operations can lose data, so `migrate` will need --allow-destructive:\n"
            ),
        )?;
        for d in destructive {
            w(out, format_args!("    ! {d}\n"))?;
        }
    }
    if options.empty && !options.dry_run {
        w(
            out,
            format_args!(
                "Add your operations (e.g. {{\"op\": \"run_sql\", \"sqlite\": \"…\", \"postgres\": \"…\"}}) to the file.\n"
            ),
        )?;
    }
    Ok(Some(migration))
}

/// `[X] name` per migration; migrations the database records without a file are listed too.
pub fn showmigrations(set: &MigrationSet, applied: &[AppliedMigration]) -> String {
    let mut out = String::new();
    for m in set.migrations() {
        let done = applied.iter().any(|a| a.name == m.name);
        out.push_str(&format!("[{}] {}\n", if done { "X" } else { " " }, m.name));
    }
    for a in applied {
        if !set.migrations().iter().any(|m| m.name == a.name) {
            out.push_str(&format!(
                "[X] {} (recorded in the database, no such migration)\n",
                a.name
            ));
        }
    }
    if out.is_empty() {
        out.push_str("(no migrations)\n");
    }
    out
}

/// The SQL a migration runs on `dialect`, with a comment per operation.
pub fn sqlmigrate(
    set: &MigrationSet,
    name: &str,
    dialect: Dialect,
    backwards: bool,
) -> Result<String> {
    let migration = &set.migrations()[set.position(name)?];
    let mut out = format!(
        "-- {} ({}{})\n",
        migration.name,
        dialect.name(),
        if backwards { ", backwards" } else { "" }
    );
    for (describe, steps) in apply::sql(set, name, dialect, backwards)? {
        out.push_str(&format!("-- {describe}\n"));
        if steps.is_empty() {
            out.push_str("-- (nothing to run on this backend)\n");
        }
        for step in steps {
            out.push_str(&format!("{step}\n"));
        }
    }
    Ok(out)
}

fn report(out: &Progress, r: &Report, fake: bool) {
    if fake && !r.applied.is_empty() {
        out.line(&format!(
            "Recorded {} migration(s) without running them.",
            r.applied.len()
        ));
    }
}

fn cli(err: Error) -> turbine_core::Error {
    match err {
        Error::Migration(message) => turbine_core::Error::Usage(message),
        other => other.into(),
    }
}

/// Where the commands find their [`MigrationConfig`] when they run.
type Source =
    Arc<dyn Fn(&Context) -> turbine_core::Result<Arc<MigrationConfig>> + Send + Sync + 'static>;

/// The database from the context and the migrations to apply.
fn db_and_set(ctx: &Context, source: &Source) -> turbine_core::Result<(Db, MigrationSet)> {
    let config = source(ctx)?;
    Ok((ctx.require::<Db>()?.clone(), config.set().map_err(cli)?))
}

fn flag(name: &'static str, help: &'static str) -> Arg {
    Arg::new(name)
        .long(name)
        .action(ArgAction::SetTrue)
        .help(help)
}

fn destructive_flag() -> Arg {
    flag(
        "allow-destructive",
        "Allow operations that lose data (dropping tables or columns, narrowing types)",
    )
}

/// The migration commands, for a battery to add with `Setup::command`. `migrate`, `rollback`,
/// `showmigrations` and `sqlmigrate` take the [`Db`] from the context.
pub fn commands(config: MigrationConfig) -> Vec<Command> {
    let config = Arc::new(config);
    commands_with(Arc::new(move |_ctx: &Context| Ok(config.clone())))
}

/// Fails with a message naming what to run when the database is behind the app's migrations:
/// commands that need the tables (`createsuperuser`, `seed`…) call it first, so a fresh
/// database gets "run `migrate` first" instead of a "no such table" from the driver.
pub async fn require_migrated(ctx: &Context) -> turbine_core::Result<()> {
    let config = ctx.require::<Arc<MigrationConfig>>()?.clone();
    let db = ctx.require::<Db>()?.clone();
    let set = config.set().map_err(cli)?;
    super::apply::ensure_table(&db).await.map_err(cli)?;
    let applied = super::apply::applied(&db).await.map_err(cli)?;
    let pending: Vec<&str> = set
        .migrations()
        .iter()
        .map(|m| m.name.as_str())
        .filter(|name| !applied.iter().any(|a| a.name == *name))
        .collect();
    match pending.first() {
        None => Ok(()),
        Some(first) => {
            let program = std::env::args()
                .next()
                .and_then(|p| {
                    std::path::Path::new(&p)
                        .file_name()
                        .map(|f| f.to_string_lossy().into_owned())
                })
                .unwrap_or_else(|| "app".into());
            Err(turbine_core::Error::Usage(format!(
                "the database is not migrated: {} migration{} not applied ({first} first). Run `{program} migrate` first (or start the server with auto_migrate on).",
                pending.len(),
                if pending.len() == 1 { " is" } else { "s are" },
            )))
        }
    }
}

/// The migration commands, reading their [`MigrationConfig`] from the context when they run
/// (the ORM battery puts it there at start-up, once every battery has added its models).
pub fn commands_from_context() -> Vec<Command> {
    commands_with(Arc::new(|ctx: &Context| {
        Ok(ctx.require::<Arc<MigrationConfig>>()?.clone())
    }))
}

fn commands_with(config: Source) -> Vec<Command> {
    let c = config.clone();
    let make = Command::new(
        clap::Command::new("makemigrations")
            .about("Write a migration for the changes to the models")
            .arg(
                Arg::new("name")
                    .long("name")
                    .value_name("NAME")
                    .help("Name after the number (default: from the changes)"),
            )
            .arg(flag("dry-run", "Show what would be written; write nothing"))
            .arg(flag(
                "empty",
                "Write a migration without operations, to fill in by hand",
            ))
            .arg(
                Arg::new("rename")
                    .long("rename")
                    .value_name("OLD=NEW")
                    .action(ArgAction::Append)
                    .help("Confirm a rename: blog.Post=blog.Article, blog.Post.title=headline"),
            )
            .arg(flag("yes-renames", "Take every likely rename as a rename"))
            .arg(
                flag(
                    "no-renames",
                    "Take no likely rename as a rename (remove and add)",
                )
                .conflicts_with("yes-renames"),
            ),
        move |ctx, args: ArgMatches| async move {
            let c = c(&ctx)?;
            let mut renames = Renames::new().prompt_on_terminal();
            for r in args.get_many::<String>("rename").into_iter().flatten() {
                renames = renames.rename(r).map_err(cli)?;
            }
            if args.get_flag("yes-renames") {
                renames = renames.yes_to_all();
            }
            if args.get_flag("no-renames") {
                renames = renames.no_to_all();
            }
            let mut options = MakeOptions::new()
                .renames(renames)
                .dry_run(args.get_flag("dry-run"))
                .empty(args.get_flag("empty"));
            options.name = args.get_one::<String>("name").cloned();
            makemigrations(&c, options, &mut std::io::stdout()).map_err(cli)?;
            Ok(())
        },
    );
    let c = config.clone();
    let migrate = Command::new(
        clap::Command::new("migrate")
            .about("Apply pending migrations (or migrate to TARGET, rolling back later ones)")
            .arg(
                Arg::new("target")
                    .value_name("TARGET")
                    .help("Stop at this migration (name or number prefix)"),
            )
            .arg(flag(
                "fake",
                "Record the migrations as applied without running them",
            ))
            .arg(destructive_flag()),
        move |ctx, args: ArgMatches| async move {
            let (db, set) = db_and_set(&ctx, &c)?;
            let options = MigrateOptions::new()
                .fake(args.get_flag("fake"))
                .allow_destructive(args.get_flag("allow-destructive"))
                .target(args.get_one::<String>("target").cloned());
            let progress = Progress::stdout();
            progress.line(&format!("Migrating the {} database:", db.dialect().name()));
            let r = apply::migrate(&db, &set, &options, &progress)
                .await
                .map_err(cli)?;
            report(&progress, &r, options.fake);
            Ok(())
        },
    );
    let c = config.clone();
    let rollback = Command::new(
        clap::Command::new("rollback")
            .about("Roll back the last N applied migrations (default 1)")
            .arg(
                Arg::new("n")
                    .value_name("N")
                    .default_value("1")
                    .value_parser(clap::value_parser!(usize)),
            )
            .arg(flag(
                "fake",
                "Unrecord the migrations without running their reverse",
            ))
            .arg(destructive_flag()),
        move |ctx, args: ArgMatches| async move {
            let (db, set) = db_and_set(&ctx, &c)?;
            let n = args.get_one::<usize>("n").copied().unwrap_or(1);
            let options = MigrateOptions::new()
                .fake(args.get_flag("fake"))
                .allow_destructive(args.get_flag("allow-destructive"));
            let progress = Progress::stdout();
            progress.line(&format!(
                "Rolling back on the {} database:",
                db.dialect().name()
            ));
            apply::rollback(&db, &set, n, &options, &progress)
                .await
                .map_err(cli)?;
            Ok(())
        },
    );
    let c = config.clone();
    let show = Command::new(
        clap::Command::new("showmigrations").about("List the migrations: [X] applied, [ ] pending"),
        move |ctx, _args| async move {
            let (db, set) = db_and_set(&ctx, &c)?;
            apply::ensure_table(&db).await.map_err(cli)?;
            let applied = apply::applied(&db).await.map_err(cli)?;
            print!("{}", showmigrations(&set, &applied));
            Ok(())
        },
    );
    let c = config;
    let sql = Command::new(
        clap::Command::new("sqlmigrate")
            .about("Print the SQL a migration runs on the configured database")
            .arg(
                Arg::new("name")
                    .value_name("NAME")
                    .required(true)
                    .help("Migration name or number prefix (0002)"),
            )
            .arg(flag("backwards", "The SQL that rolls it back")),
        move |ctx, args: ArgMatches| async move {
            let (db, set) = db_and_set(&ctx, &c)?;
            let name = args.get_one::<String>("name").cloned().unwrap_or_default();
            let text =
                sqlmigrate(&set, &name, db.dialect(), args.get_flag("backwards")).map_err(cli)?;
            print!("{text}");
            Ok(())
        },
    );
    vec![make, migrate, rollback, show, sql]
}
