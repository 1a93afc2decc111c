//! Likely renames: the autodetector asks a [`Questioner`] before it turns a removed and an added
//! model (or field) of the same shape into a rename; [`Renames`] answers from flags or a prompt.

use std::io::{BufRead, IsTerminal, Write};

use crate::error::{Error, Result};

/// A removed and an added model, or field, that look the same.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RenameCandidate {
    /// Model `from` (label) may have become `to` (label).
    Model {
        /// The old label.
        from: String,
        /// The new label.
        to: String,
    },
    /// Field `from` of `model` may have become `to`.
    Field {
        /// The model's label.
        model: String,
        /// The old field name.
        from: String,
        /// The new field name.
        to: String,
    },
}

impl RenameCandidate {
    /// The `--rename` flag value that confirms it: `blog.Post=blog.Article`,
    /// `blog.Post.title=headline`.
    pub fn flag(&self) -> String {
        match self {
            RenameCandidate::Model { from, to } => format!("{from}={to}"),
            RenameCandidate::Field { model, from, to } => format!("{model}.{from}={to}"),
        }
    }

    /// The question, in words.
    pub fn question(&self) -> String {
        match self {
            RenameCandidate::Model { from, to } => {
                format!("Was the model {from} renamed to {to}? [y/N] ")
            }
            RenameCandidate::Field { model, from, to } => {
                format!("Was {model}.{from} renamed to {model}.{to} (same definition)? [y/N] ")
            }
        }
    }

    fn matches(&self, old: &str, new: &str) -> bool {
        self.names_old(old) && self.names_new(new)
    }

    /// `true` when a flag's `old` part names this candidate's old model or field.
    fn names_old(&self, old: &str) -> bool {
        match self {
            RenameCandidate::Model { from, .. } => names_model(from, old),
            RenameCandidate::Field { model, from, .. } => names_field(model, from, old),
        }
    }

    fn names_new(&self, new: &str) -> bool {
        match self {
            RenameCandidate::Model { to, .. } => names_model(to, new),
            RenameCandidate::Field { model, to, .. } => names_field(model, to, new),
        }
    }
}

fn short(label: &str) -> &str {
    label.rsplit('.').next().unwrap_or(label)
}

fn names_model(label: &str, given: &str) -> bool {
    given == label || given == short(label)
}

fn names_field(model: &str, field: &str, given: &str) -> bool {
    given == field
        || given == format!("{}.{field}", short(model))
        || given == format!("{model}.{field}")
}

/// Decides whether a likely rename is one.
pub trait Questioner {
    /// `true`: rename; `false`: remove the old one and add the new one.
    fn ask_rename(&mut self, candidate: &RenameCandidate) -> Result<bool>;
}

/// Answers from `--rename old=new` flags, `--yes-renames` / `--no-renames`, else a y/N prompt on
/// a terminal; without a terminal it refuses to guess and names the flag to pass.
#[derive(Debug, Clone, Default)]
pub struct Renames {
    explicit: Vec<(String, String, bool)>,
    yes: bool,
    no: bool,
    interactive: bool,
}

impl Renames {
    /// No answers yet; never prompts.
    pub fn new() -> Self {
        Self::default()
    }

    /// Confirms renames given as `old=new` (`blog.Post=blog.Article`, `blog.Post.title=headline`,
    /// or just `title=headline`).
    pub fn rename(mut self, flag: &str) -> Result<Self> {
        let (old, new) = flag
            .split_once('=')
            .filter(|(a, b)| !a.is_empty() && !b.is_empty())
            .ok_or_else(|| {
                Error::Migration(format!(
                    "--rename {flag}: expected OLD=NEW, e.g. blog.Post.title=headline"
                ))
            })?;
        self.explicit.push((old.into(), new.into(), false));
        Ok(self)
    }

    /// Takes every likely rename as a rename.
    pub fn yes_to_all(mut self) -> Self {
        self.yes = true;
        self
    }

    /// Takes no likely rename as a rename (remove and add instead).
    pub fn no_to_all(mut self) -> Self {
        self.no = true;
        self
    }

    /// Prompts on the terminal for renames no flag decides (when stdin is a terminal).
    pub fn prompt_on_terminal(mut self) -> Self {
        self.interactive = std::io::stdin().is_terminal();
        self
    }

    /// `--rename` flags that matched no likely rename.
    pub fn unused(&self) -> Vec<String> {
        self.explicit
            .iter()
            .filter(|(.., used)| !used)
            .map(|(a, b, _)| format!("{a}={b}"))
            .collect()
    }
}

impl Questioner for Renames {
    fn ask_rename(&mut self, candidate: &RenameCandidate) -> Result<bool> {
        if let Some(flag) = self
            .explicit
            .iter_mut()
            .find(|(old, new, _)| candidate.matches(old, new))
        {
            flag.2 = true;
            return Ok(true);
        }
        // A flag renaming the old one to something else answers "no" for this pairing.
        if self.explicit.iter().any(|(o, ..)| candidate.names_old(o)) {
            return Ok(false);
        }
        if self.yes || self.no {
            return Ok(self.yes);
        }
        if self.interactive {
            eprint!("{}", candidate.question());
            std::io::stderr().flush().ok();
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| Error::Migration(format!("reading the answer: {e}")))?;
            return Ok(matches!(line.trim(), "y" | "Y" | "yes" | "Yes"));
        }
        let what = match candidate {
            RenameCandidate::Model { from, to } => {
                format!("model {from} may have been renamed to {to}")
            }
            RenameCandidate::Field { model, from, to } => {
                format!("field {model}.{from} may have been renamed to {to}")
            }
        };
        Err(Error::Migration(format!(
            "{what}, and there is no terminal to ask. Pass --rename {} to rename it (keeping its data), \
             or --no-renames to remove the old one and add the new one",
            candidate.flag()
        )))
    }
}
