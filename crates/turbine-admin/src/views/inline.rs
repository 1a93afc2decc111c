//! Inline related objects: the rows of another model that point at the one being edited,
//! edited in place on its form (a table of mini-forms, a "Delete" box per row, one blank row
//! to add another), saved in the same transaction as the parent and logged row by row.

use serde_json::{Value as J, json};
use turbine_orm::meta::{FieldMeta, ModelMeta, Registry, RelationKind};
use turbine_orm::query::{Filter, Query};
use turbine_orm::value::null_of;
use turbine_orm::{Db, Value};

use super::{Visitor, column_index, item_url, row_key, row_title};
use crate::audit::{self, Actor};
use crate::display::key_text;
use crate::forms::{self, Errors, FormInput, automatic, is_m2m};
use crate::model_admin::ModelAdmin;
use crate::site::State;

/// Rows shown (and editable) per inline; the rest are a link to the filtered list away.
pub(crate) const ROWS: u64 = 50;

/// One inline of a form: the child model, its foreign key to the parent, and how its rows are
/// edited (the child's own admin, the foreign key left out).
pub(crate) struct Inline<'r> {
    pub(crate) meta: &'r ModelMeta,
    pub(crate) fk: &'r FieldMeta,
    pub(crate) admin: ModelAdmin,
    pub(crate) registered: bool,
    /// Form names start with this: `chirp_comment-3-body`.
    pub(crate) prefix: String,
    pub(crate) can_add: bool,
    pub(crate) can_change: bool,
    pub(crate) can_delete: bool,
}

impl Inline<'_> {
    fn row_prefix(&self, i: usize) -> String {
        format!("{}-{i}-", self.prefix)
    }

    /// The fields a row edits.
    fn fields(&self) -> impl Iterator<Item = &FieldMeta> {
        self.admin
            .meta
            .fields
            .iter()
            .filter(|f| f.has_column() && self.admin.editable(f) && !automatic(f) && !is_m2m(f))
    }
}

/// The inlines of `admin` the visitor may view, resolved against the registry.
pub(crate) async fn resolve<'r>(
    state: &State,
    v: &Visitor,
    registry: &'r Registry,
    admin: &ModelAdmin,
) -> Vec<Inline<'r>> {
    let mut out = Vec::new();
    for spec in &admin.inlines {
        let parts: Vec<&str> = spec.split('.').collect();
        let (label, fk_name) = match parts.as_slice() {
            [app, model, field] => (format!("{app}.{model}"), Some(*field)),
            _ => (spec.clone(), None),
        };
        let Some(meta) = registry.get(&label) else {
            continue;
        };
        if !v.can(meta, "view").await {
            continue;
        }
        let fk = meta.fields.iter().find(|f| {
            f.relation
                .as_ref()
                .is_some_and(|r| r.to == admin.meta.label() && r.kind != RelationKind::ManyToMany)
                && fk_name.is_none_or(|n| n == f.name)
        });
        let Some(fk) = fk else { continue };
        let registered = state.by_label(&label).is_some();
        let mut child = state
            .by_label(&label)
            .cloned()
            .unwrap_or_else(|| ModelAdmin::new(meta.clone()));
        child.exclude.push(fk.name.clone());
        out.push(Inline {
            meta,
            fk,
            admin: child,
            registered,
            prefix: format!("{}_{}", meta.app.to_lowercase(), meta.name.to_lowercase()),
            can_add: v.can(meta, "add").await,
            can_change: v.can(meta, "change").await,
            can_delete: v.can(meta, "delete").await,
        });
    }
    out
}

/// A new row of `meta`: NULLs, then the model's defaults.
fn blank(meta: &ModelMeta) -> Vec<Value> {
    let mut values: Vec<Value> = meta
        .fields
        .iter()
        .filter(|f| f.has_column())
        .map(|f| null_of(&f.ty))
        .collect();
    let _ = turbine_orm::crud::fill_defaults(meta, &mut values);
    values
}

/// The child rows of `parent` (typed values).
async fn rows(
    db: &Db,
    inline: &Inline<'_>,
    parent: &Value,
) -> turbine_orm::Result<Vec<Vec<Value>>> {
    Ok(Query::new(inline.meta)
        .filter(Filter::eq(inline.fk.name.clone(), parent.clone()))
        .limit(ROWS)
        .fetch(db)
        .await?
        .into_iter()
        .map(|r| super::typed(inline.meta, r.into_values()))
        .collect())
}

/// The inlines for the template: each existing row as inputs (read-only without the change
/// permission), plus a blank row when the visitor may add. `raw` is a submitted form to show
/// again with its `errors` (keyed by input name).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn render(
    state: &State,
    db: &Db,
    registry: &Registry,
    inlines: &[Inline<'_>],
    parent: Option<&Value>,
    raw: Option<&FormInput>,
    errors: &Errors,
) -> turbine_orm::Result<Vec<J>> {
    let mut out = Vec::new();
    for inline in inlines {
        let existing = match parent {
            Some(p) => rows(db, inline, p).await?,
            None => Vec::new(),
        };
        let total = match parent {
            Some(p) => {
                Query::new(inline.meta)
                    .filter(Filter::eq(inline.fk.name.clone(), p.clone()))
                    .count_upto(db, 1001)
                    .await?
            }
            None => 0,
        };
        let mut rows_json = Vec::new();
        let blank = blank(inline.meta);
        let extra = usize::from(inline.can_add);
        for i in 0..existing.len() + extra {
            let (values, key) = match existing.get(i) {
                Some(values) => (values.clone(), row_key(inline.meta, values)),
                None => (blank.clone(), None),
            };
            let prefix = inline.row_prefix(i);
            let row_raw = raw.map(|r| r.with_prefix(&prefix));
            let row_errors: Errors = errors
                .iter()
                .filter_map(|(k, m)| k.strip_prefix(&prefix).map(|n| (n.to_string(), m.clone())))
                .collect();
            let editable = match key {
                Some(_) => inline.can_change,
                None => inline.can_add,
            };
            let mut fields = Vec::new();
            for f in inline.fields() {
                let value = column_index(inline.meta, &f.name).and_then(|i| values.get(i));
                let mut field = super::form::field(
                    state,
                    db,
                    registry,
                    &inline.admin,
                    f,
                    value,
                    &[],
                    row_raw.as_ref().filter(|_| editable),
                    &row_errors,
                )
                .await?;
                if !editable {
                    field["widget"] = J::from("readonly");
                    field["display"] = J::from(
                        value
                            .and_then(|v| crate::display::show(v, f))
                            .unwrap_or_else(|| "—".into()),
                    );
                }
                field["inline"] = J::Bool(true);
                field["name"] = J::from(format!("{prefix}{}", f.name));
                field["id"] = J::from(format!("field-{prefix}{}", f.name));
                fields.push(field);
            }
            rows_json.push(json!({
                "prefix": prefix,
                "key": key.as_ref().map(key_text),
                "title": key.as_ref().map(|_| row_title(inline.admin.title.as_deref(), inline.meta, &values)),
                "url": key.as_ref().filter(|_| inline.registered).map(|k| item_url(state, inline.meta, k)),
                "fields": fields,
                "can_delete": key.is_some() && inline.can_delete,
                "deleting": row_raw.as_ref().is_some_and(|r| r.get("DELETE").is_some()),
                "error": row_errors.get("__all__"),
            }));
        }
        let columns: Vec<J> = inline
            .fields()
            .map(|f| json!({"label": f.label, "required": !f.nullable && f.default.is_none()}))
            .collect();
        let list_url = state
            .by_label(&inline.meta.label())
            .filter(|a| a.filters.contains(&inline.fk.name))
            .zip(parent)
            .map(|(a, p)| {
                format!(
                    "{}/{}?{}={}",
                    state.path,
                    a.slug(),
                    inline.fk.name,
                    key_text(p)
                )
            });
        out.push(json!({
            "title": super::title_case(&inline.meta.verbose_name_plural),
            "name": inline.meta.verbose_name.to_lowercase(),
            "prefix": inline.prefix,
            "count": rows_json.len(),
            "total": if total > 1000 { "more than 1,000".to_string() } else { total.to_string() },
            "more": total > ROWS,
            "list_url": list_url,
            "columns": columns,
            "rows": rows_json,
            "can_delete": inline.can_delete,
        }));
    }
    Ok(out)
}

/// What a submitted form asks of one inline row.
pub(crate) enum Op {
    Insert {
        inline: usize,
        values: Vec<Value>,
    },
    Update {
        inline: usize,
        before: Vec<Value>,
        after: Vec<Value>,
        changed: Vec<String>,
    },
    Delete {
        inline: usize,
        values: Vec<Value>,
    },
}

/// Reads the inline rows of a submitted form: the operations to run, or every row's errors
/// (keyed by input name). Rows of other parents, and operations the visitor may not do, are
/// errors too.
pub(crate) async fn parse(
    db: &Db,
    registry: &Registry,
    inlines: &[Inline<'_>],
    parent: Option<&Value>,
    form: &FormInput,
) -> turbine_orm::Result<Result<Vec<Op>, Errors>> {
    let mut ops = Vec::new();
    let mut errors = Errors::new();
    for (n, inline) in inlines.iter().enumerate() {
        let existing = match parent {
            Some(p) => rows(db, inline, p).await?,
            None => Vec::new(),
        };
        let count: usize = form
            .get(&format!("{}-count", inline.prefix))
            .and_then(|c| c.parse().ok())
            .unwrap_or(0)
            .min(ROWS as usize + 1);
        for i in 0..count {
            let prefix = inline.row_prefix(i);
            let row = form.with_prefix(&prefix);
            let mut fail = |field: &str, message: String| {
                errors.insert(format!("{prefix}{field}"), message);
            };
            match row.get("key").filter(|k| !k.is_empty()) {
                Some(key_text_sent) => {
                    let found = existing.iter().find(|vals| {
                        row_key(inline.meta, vals).is_some_and(|k| key_text(&k) == key_text_sent)
                    });
                    let Some(before) = found else {
                        fail(
                            "__all__",
                            "This row no longer belongs here; reload the page.".into(),
                        );
                        continue;
                    };
                    if row.get("DELETE").is_some() {
                        if !inline.can_delete {
                            fail("__all__", "You may not delete these.".into());
                        } else {
                            ops.push(Op::Delete {
                                inline: n,
                                values: before.clone(),
                            });
                        }
                        continue;
                    }
                    if !inline.can_change {
                        continue;
                    }
                    let mut after = before.clone();
                    match forms::apply(&inline.admin, registry, &row, &mut after) {
                        Ok(applied) => {
                            let changed: Vec<String> = applied
                                .written
                                .into_iter()
                                .filter(|name| {
                                    column_index(inline.meta, name)
                                        .is_some_and(|i| before.get(i) != after.get(i))
                                })
                                .collect();
                            if !changed.is_empty() {
                                ops.push(Op::Update {
                                    inline: n,
                                    before: before.clone(),
                                    after,
                                    changed,
                                });
                            }
                        }
                        Err(errs) => errs.into_iter().for_each(|(f, m)| fail(&f, m)),
                    }
                }
                None => {
                    // A blank row left as it was shown adds nothing.
                    let initial = blank(inline.meta);
                    let touched = inline.fields().any(|f| {
                        let shown = column_index(inline.meta, &f.name).and_then(|i| initial.get(i));
                        if f.ty == turbine_orm::meta::FieldType::Bool {
                            let was = matches!(shown, Some(Value::Bool(Some(true))));
                            return row.get(&f.name).is_some() != was;
                        }
                        let was = shown
                            .map(|v| crate::display::input_text(v, f))
                            .unwrap_or_default();
                        row.get(&f.name).unwrap_or("").trim() != was.trim()
                    });
                    if !touched {
                        continue;
                    }
                    if !inline.can_add {
                        fail("__all__", "You may not add these.".into());
                        continue;
                    }
                    let mut values = initial;
                    match forms::apply(&inline.admin, registry, &row, &mut values) {
                        Ok(_) => ops.push(Op::Insert { inline: n, values }),
                        Err(errs) => errs.into_iter().for_each(|(f, m)| fail(&f, m)),
                    }
                }
            }
        }
    }
    Ok(if errors.is_empty() {
        Ok(ops)
    } else {
        Err(errors)
    })
}

/// Runs the operations on `tx` (the parent's transaction), logging each row.
pub(crate) async fn run(
    tx: &Db,
    actor: &Actor,
    inlines: &[Inline<'_>],
    ops: Vec<Op>,
    parent: &Value,
) -> turbine_orm::Result<usize> {
    let n = ops.len();
    for op in ops {
        match op {
            Op::Insert { inline, mut values } => {
                let i = &inlines[inline];
                if let Some(pos) = column_index(i.meta, &i.fk.name) {
                    values[pos] = parent.clone();
                }
                let stored = i.admin.store.insert(tx, i.meta, values).await?;
                let key = row_key(i.meta, &stored).unwrap_or(Value::BigInt(None));
                let title = row_title(i.admin.title.as_deref(), i.meta, &stored);
                let changes = audit::diff(i.meta, None, &stored);
                audit::record(tx, actor, i.meta, key_text(&key), title, "add", changes).await?;
            }
            Op::Update {
                inline,
                before,
                after,
                changed,
            } => {
                let i = &inlines[inline];
                let stored = i
                    .admin
                    .store
                    .update(tx, i.meta, after, Some(changed))
                    .await?;
                let key = row_key(i.meta, &stored).unwrap_or(Value::BigInt(None));
                let title = row_title(i.admin.title.as_deref(), i.meta, &stored);
                let changes = audit::diff(i.meta, Some(&before), &stored);
                audit::record(tx, actor, i.meta, key_text(&key), title, "change", changes).await?;
            }
            Op::Delete { inline, values } => {
                let i = &inlines[inline];
                let key = row_key(i.meta, &values).unwrap_or(Value::BigInt(None));
                let title = row_title(i.admin.title.as_deref(), i.meta, &values);
                let changes = audit::removed(i.meta, &values);
                i.admin.store.delete(tx, i.meta, values).await?;
                audit::record(tx, actor, i.meta, key_text(&key), title, "delete", changes).await?;
            }
        }
    }
    Ok(n)
}
