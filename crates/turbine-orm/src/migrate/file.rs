//! Migration files and the ordered set of them.
//!
//! A migration is one JSON file in the app's `migrations/` folder, `NNNN_name.json`, holding its
//! name, the migration it follows, and its operations (see `docs/migrations.md`). JSON because
//! the ORM already speaks it (no new dependency), it keeps every value a model default can hold
//! (nested JSON, `null`) without quoting rules, and pretty-printed with one operation per block
//! it reviews and diffs well.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Operation, State};
use crate::error::{Error, Result};

/// The extension of migration files.
pub const EXTENSION: &str = "json";

/// One migration: a named list of operations following other migrations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Migration {
    /// `0002_post_slug`: the file name without `.json`; sorts in apply order.
    pub name: String,
    /// The migrations that must be applied first (the previous one).
    #[serde(default)]
    pub dependencies: Vec<String>,
    /// What it changes, in order.
    pub operations: Vec<Operation>,
}

impl Migration {
    /// A migration.
    pub fn new(
        name: impl Into<String>,
        dependencies: impl IntoIterator<Item = String>,
        operations: Vec<Operation>,
    ) -> Self {
        Self {
            name: name.into(),
            dependencies: dependencies.into_iter().collect(),
            operations,
        }
    }

    /// Reads a migration file's text.
    pub fn parse(text: &str) -> Result<Self> {
        serde_json::from_str(text).map_err(|e| Error::Migration(format!("invalid migration: {e}")))
    }

    /// The file's text: pretty JSON with a final newline.
    pub fn to_json(&self) -> Result<String> {
        let mut text = serde_json::to_string_pretty(self)
            .map_err(|e| Error::Migration(format!("cannot write migration {}: {e}", self.name)))?;
        text.push('\n');
        Ok(text)
    }

    /// The number it starts with (`2` for `0002_post_slug`).
    pub fn number(&self) -> Option<u32> {
        self.name.split('_').next()?.parse().ok()
    }
}

/// The migrations of an app in apply order, checked to form one line of history, with the
/// state before each one.
#[derive(Debug, Clone)]
pub struct MigrationSet {
    migrations: Vec<Migration>,
    /// `states[i]`: the state before migration `i`; the last one is the final state.
    states: Vec<State>,
}

impl Default for MigrationSet {
    fn default() -> Self {
        Self {
            migrations: Vec::new(),
            states: vec![State::new()],
        }
    }
}

/// The app a migration name belongs to: `auth` for `auth.0001_initial`, `""` for the app's own
/// `0001_initial`.
fn app_of(name: &str) -> &str {
    name.split_once('.').map_or("", |(app, _)| app)
}

impl MigrationSet {
    /// Orders migrations by name and checks them: unique names, each following the previous one,
    /// every operation applying to the state the earlier ones leave.
    ///
    /// An operation on a model that no migration of the set creates (an app adding a column to
    /// a battery's `auth.User`) is left for [`on`](Self::on) to check against the state the
    /// batteries' migrations leave; every other operation is checked here.
    pub fn new(mut migrations: Vec<Migration>) -> Result<Self> {
        migrations.sort_by(|a, b| a.name.cmp(&b.name));
        for (i, m) in migrations.iter().enumerate() {
            if i > 0 && migrations[i - 1].name == m.name {
                return Err(Error::Migration(format!(
                    "two migrations are named {}",
                    m.name
                )));
            }
            for dep in &m.dependencies {
                // Another set's migration (`auth.0001_initial` from an app's): checked when the
                // sets are combined.
                if app_of(dep) != app_of(&m.name) {
                    continue;
                }
                if !migrations[..i].iter().any(|e| &e.name == dep) {
                    return Err(Error::Migration(format!(
                        "{} depends on {dep}, which is not an earlier migration",
                        m.name
                    )));
                }
            }
            if i > 0 && !m.dependencies.contains(&migrations[i - 1].name) {
                return Err(Error::Migration(format!(
                    "{} does not follow {} (its dependencies: [{}]): two migrations were made side by side; \
                     renumber the newer one after the other and set its dependencies to [\"{}\"]",
                    m.name,
                    migrations[i - 1].name,
                    m.dependencies.join(", "),
                    migrations[i - 1].name
                )));
            }
        }
        let created: Vec<String> = migrations
            .iter()
            .flat_map(|m| &m.operations)
            .filter_map(|op| match op {
                crate::migrate::Operation::CreateModel { model } => Some(model.label()),
                _ => None,
            })
            .collect();
        Self::replay_with(State::new(), migrations, Some(&created))
    }

    /// Replays migrations from `base`, keeping the state before each one.
    fn replay(base: State, migrations: Vec<Migration>) -> Result<Self> {
        Self::replay_with(base, migrations, None)
    }

    /// [`replay`](Self::replay); with `created`, operations on a model that is neither in the
    /// state nor created by the set are skipped (another set's model, checked by `on`).
    fn replay_with(
        base: State,
        migrations: Vec<Migration>,
        created: Option<&[String]>,
    ) -> Result<Self> {
        let mut states = vec![base];
        for m in &migrations {
            let mut state = states.last().cloned().unwrap_or_default();
            for (n, op) in m.operations.iter().enumerate() {
                if let (Some(created), Some(label)) = (created, op.model_label())
                    && state.get(label).is_none()
                    && !created.iter().any(|c| c == label)
                {
                    continue;
                }
                op.apply_to_state(&mut state).map_err(|e| {
                    Error::Migration(format!(
                        "{}, operation {} ({}): {e}",
                        m.name,
                        n + 1,
                        op.describe()
                    ))
                })?;
            }
            states.push(state);
        }
        Ok(Self { migrations, states })
    }

    /// Reads every `*.json` file of a folder (none when the folder does not exist).
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        if !dir.exists() {
            return Self::new(Vec::new());
        }
        let io = |e: std::io::Error| Error::Migration(format!("{}: {e}", dir.display()));
        let mut migrations = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let path = entry.map_err(io)?.path();
            if path.extension().and_then(|e| e.to_str()) != Some(EXTENSION) {
                continue;
            }
            let text = std::fs::read_to_string(&path).map_err(io)?;
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            migrations.push(parse_named(stem, &text)?);
        }
        Self::new(migrations)
    }

    /// Reads migrations embedded in the binary: `(file name, contents)` pairs, as
    /// [`migrations!`](crate::migrations) gives them.
    pub fn from_embedded(files: &[(&str, &str)]) -> Result<Self> {
        let migrations = files
            .iter()
            .map(|(name, text)| {
                let stem = name.strip_suffix(".json").unwrap_or(name);
                parse_named(stem, text)
            })
            .collect::<Result<Vec<_>>>()?;
        Self::new(migrations)
    }

    /// The same migrations replayed on top of `base` (what other apps' migrations leave): an
    /// app whose models point at a battery's (a profile's foreign key to `auth.User`) is replayed
    /// on the battery's state.
    pub fn on(self, base: &State) -> Result<Self> {
        Self::replay(base.clone(), self.migrations)
    }

    /// A battery's migrations, named `app.0001_initial` (dependencies too) so that they never
    /// collide with the app's own in the record table.
    ///
    /// ```
    /// # use turbine_orm::migrate::MigrationSet;
    /// let text = r#"{"name": "0001_initial", "dependencies": [], "operations": []}"#;
    /// let set = MigrationSet::from_embedded(&[("0001_initial.json", text)])?.qualified("auth")?;
    /// assert_eq!(set.migrations()[0].name, "auth.0001_initial");
    /// # Ok::<(), turbine_orm::Error>(())
    /// ```
    pub fn qualified(self, app: &str) -> Result<Self> {
        let q = |name: &str| format!("{app}.{name}");
        let migrations = self
            .migrations
            .into_iter()
            .map(|mut m| {
                m.name = q(&m.name);
                m.dependencies = m.dependencies.iter().map(|d| q(d)).collect();
                m
            })
            .collect();
        Self::new(migrations)
    }

    /// Several apps' migrations, in apply order (batteries' first, the app's last), as one set:
    /// each part keeps its own order and is replayed on what the parts before it leave.
    pub fn combine(parts: impl IntoIterator<Item = MigrationSet>) -> Result<Self> {
        let mut all: Vec<Migration> = Vec::new();
        for part in parts {
            for m in part.migrations {
                if all.iter().any(|e| e.name == m.name) {
                    return Err(Error::Migration(format!(
                        "two migrations are named {}",
                        m.name
                    )));
                }
                if let Some(dep) = m
                    .dependencies
                    .iter()
                    .find(|d| !all.iter().any(|e| &e.name == *d))
                {
                    return Err(Error::Migration(format!(
                        "{} depends on {dep}, which is not applied before it",
                        m.name
                    )));
                }
                all.push(m);
            }
        }
        Self::replay(State::new(), all)
    }

    /// The migrations, in apply order.
    pub fn migrations(&self) -> &[Migration] {
        &self.migrations
    }

    /// `true` when there are none.
    pub fn is_empty(&self) -> bool {
        self.migrations.is_empty()
    }

    /// The last migration.
    pub fn last(&self) -> Option<&Migration> {
        self.migrations.last()
    }

    /// The position of a migration given by name or by a prefix only it has (`0002`).
    pub fn position(&self, name: &str) -> Result<usize> {
        if let Some(i) = self.migrations.iter().position(|m| m.name == name) {
            return Ok(i);
        }
        let found: Vec<usize> = (0..self.migrations.len())
            .filter(|&i| self.migrations[i].name.starts_with(name))
            .collect();
        match found[..] {
            [i] => Ok(i),
            [] => Err(Error::Migration(format!("no migration named `{name}`"))),
            _ => Err(Error::Migration(format!(
                "`{name}` matches several migrations: {}",
                found
                    .iter()
                    .map(|&i| self.migrations[i].name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// The state before the migration at `index` (`index == len`: after all of them).
    pub fn state_before(&self, index: usize) -> &State {
        &self.states[index.min(self.states.len() - 1)]
    }

    /// The state every migration together replays to.
    pub fn state(&self) -> &State {
        self.states.last().expect("at least the empty state")
    }
}

fn parse_named(stem: &str, text: &str) -> Result<Migration> {
    let m = Migration::parse(text).map_err(|e| Error::Migration(format!("{stem}.json: {e}")))?;
    if m.name != stem {
        return Err(Error::Migration(format!(
            "{stem}.json says its name is `{}`; a migration's name is its file name",
            m.name
        )));
    }
    Ok(m)
}
