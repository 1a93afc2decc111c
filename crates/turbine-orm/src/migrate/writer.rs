//! Writing migrations: the next file's name, the file, and `embed.rs`, the list that
//! [`migrations!`](crate::migrations) includes to embed every file in the binary.

use std::path::{Path, PathBuf};

use super::file::{EXTENSION, Migration, MigrationSet};
use super::operation::Operation;
use crate::error::{Error, Result};

/// The file `makemigrations` keeps beside the migrations, listing them for
/// [`migrations!`](crate::migrations).
pub const EMBED_FILE: &str = "embed.rs";

/// The next migration after the last one of `set`: number, name (`custom`, or one made from
/// the operations), dependency on the last one.
pub fn next_migration(
    set: &MigrationSet,
    operations: Vec<Operation>,
    custom: Option<&str>,
) -> Result<Migration> {
    let number = set
        .last()
        .map_or(Some(0), Migration::number)
        .ok_or_else(|| {
            Error::Migration(format!(
                "cannot number the next migration: `{}` does not start with a number",
                set.last().map(|m| m.name.as_str()).unwrap_or_default()
            ))
        })?
        + 1;
    let suffix = match custom {
        Some(name) => {
            let ok = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !ok {
                return Err(Error::Migration(format!(
                    "--name {name}: use lowercase letters, digits and `_`"
                )));
            }
            name.to_owned()
        }
        None if set.is_empty() => "initial".into(),
        None => auto_name(&operations),
    };
    Ok(Migration::new(
        format!("{number:04}_{suffix}"),
        set.last().map(|m| m.name.clone()),
        operations,
    ))
}

fn lower(label: &str) -> String {
    label.rsplit('.').next().unwrap_or(label).to_lowercase()
}

fn op_name(op: &Operation) -> Option<String> {
    use Operation::*;
    Some(match op {
        CreateModel { model } => lower(&model.name),
        DeleteModel { model } => format!("delete_{}", lower(model)),
        RenameModel { from, to, .. } => format!("rename_{}_{}", lower(from), lower(to)),
        AddField { model, field } => format!("{}_{}", lower(model), field.name),
        RemoveField { model, field } => format!("remove_{}_{field}", lower(model)),
        AlterField { model, field } => format!("alter_{}_{}", lower(model), field.name),
        RenameField {
            model, from, to, ..
        } => format!("rename_{}_{from}_{to}", lower(model)),
        AlterModelTable { model, .. } => format!("alter_{}_table", lower(model)),
        AddIndex { name, .. } | AddUnique { name, .. } | AddCheck { name, .. } => name.clone(),
        RemoveIndex { name, .. } | RemoveUnique { name, .. } | RemoveCheck { name, .. } => {
            format!("remove_{name}")
        }
        RunSql(_) => return None,
    })
}

/// A name from the operations (`post_slug`, `rename_post_title_headline`), or `auto_<time>`.
fn auto_name(operations: &[Operation]) -> String {
    let names: Option<Vec<String>> = operations.iter().map(op_name).collect();
    let clean = |s: String| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect()
    };
    match names {
        Some(names) if !names.is_empty() && names.join("_").len() <= 40 => clean(names.join("_")),
        _ => format!("auto_{}", chrono::Utc::now().format("%Y%m%d_%H%M")),
    }
}

/// Writes the migration's file into `dir` (created if missing) and rewrites `embed.rs`.
/// Refuses to overwrite an existing file.
pub fn write(dir: &Path, migration: &Migration) -> Result<PathBuf> {
    let io = |e: std::io::Error| Error::Migration(format!("{}: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(io)?;
    let path = dir.join(format!("{}.{EXTENSION}", migration.name));
    if path.exists() {
        return Err(Error::Migration(format!(
            "{} already exists",
            path.display()
        )));
    }
    std::fs::write(&path, migration.to_json()?).map_err(io)?;
    write_embed(dir)?;
    Ok(path)
}

/// Rewrites `dir/embed.rs` to list every migration file of `dir`.
pub fn write_embed(dir: &Path) -> Result<()> {
    let io = |e: std::io::Error| Error::Migration(format!("{}: {e}", dir.display()));
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.extension().and_then(|e| e.to_str()) == Some(EXTENSION)
            && let Some(name) = path.file_name().and_then(|n| n.to_str())
        {
            names.push(name.to_owned());
        }
    }
    names.sort();
    std::fs::write(dir.join(EMBED_FILE), embed_source(&names)).map_err(io)
}

/// The text of `embed.rs` for these file names.
pub fn embed_source(files: &[String]) -> String {
    let mut out = String::from(
        "// Written by `makemigrations`: the migration files that `turbine_orm::migrations!` embeds.\n[\n",
    );
    for name in files {
        out.push_str(&format!("    ({name:?}, include_str!({name:?})),\n"));
    }
    out.push_str("]\n");
    out
}
