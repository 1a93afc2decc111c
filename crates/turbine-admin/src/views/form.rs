//! Add and change pages: a form generated from the field types, validated like the API,
//! saved with its log entry in one transaction.

use std::sync::Arc;

use axum::extract::Path;
use axum::response::Response;
use bytes::Bytes;
use http::StatusCode;
use serde_json::{Value as J, json};
use turbine_core::battery::Setup;
use turbine_core::routing::get;
use turbine_orm::meta::{FieldMeta, FieldType, ModelMeta, Registry, RelationKind};
use turbine_orm::query::convert::parse_text;
use turbine_orm::query::{Filter, M2mLink, Query};
use turbine_orm::value::null_of;
use turbine_orm::{Db, Value};

use super::Visit;
use super::{
    Visitor, column_index, error_page, handler, item_url, redirect_with, render, row_title,
};
use crate::audit;
use crate::display::{input_text, key_text, show};
use crate::forms::{self, Errors, FormInput, automatic, is_m2m};
use crate::model_admin::ModelAdmin;
use crate::site::State;

/// How many rows a many-to-many select offers.
const MANY_OPTIONS: u64 = 500;

pub(super) fn mount(setup: &mut Setup, state: &Arc<State>) {
    let base = &state.path;
    setup.route(
        &format!("{base}/{{app}}/{{model}}/add"),
        get(handler!(state, add_page, db: Db, visit: Visit, path: Path<(String, String)>)).post(
            handler!(state, add, db: Db, visit: Visit, path: Path<(String, String)>, body: Bytes),
        ),
    );
    setup.route(
        &format!("{base}/{{app}}/{{model}}/{{id}}"),
        get(handler!(state, change_page, db: Db, visit: Visit, path: Path<(String, String, String)>))
            .post(handler!(state, change, db: Db, visit: Visit, path: Path<(String, String, String)>, body: Bytes)),
    );
}

/// Loads the row with key text `id`, in column order (`None`: no such row or a bad key).
pub(crate) async fn load(
    db: &Db,
    meta: &ModelMeta,
    id: &str,
) -> turbine_orm::Result<Option<(Value, Vec<Value>)>> {
    let Some(pk) = meta.primary_key() else {
        return Ok(None);
    };
    let Ok(key) = parse_text(id, &pk.ty) else {
        return Ok(None);
    };
    let row = Query::new(meta)
        .filter(Filter::eq(pk.name.clone(), key.clone()))
        .fetch_first(db)
        .await?;
    Ok(row.map(|r| (key, super::typed(meta, r.into_values()))))
}

/// The row with key text `id` of the admin's model, or the 404 page (500 on a database error).
pub(crate) async fn object(
    state: &State,
    v: &Visitor,
    db: &Db,
    admin: &ModelAdmin,
    id: &str,
) -> Result<(Value, Vec<Value>), Response> {
    match load(db, &admin.meta, id).await {
        Ok(Some(found)) => Ok(found),
        Ok(None) => Err(error_page(
            state,
            v,
            StatusCode::NOT_FOUND,
            &format!(
                "There is no {} with the key `{id}`.",
                admin.meta.verbose_name.to_lowercase()
            ),
        )
        .await),
        Err(e) => Err(super::server_error(state, &e.to_string())),
    }
}

/// An empty row of `meta` (NULLs), with values from the query string (`?post=5` pre-fills
/// the foreign key when adding from a parent's page).
fn blank(meta: &ModelMeta) -> Vec<Value> {
    meta.fields
        .iter()
        .filter(|f| f.has_column())
        .map(|f| null_of(&f.ty))
        .collect()
}

/// The form's sections, for the template.
#[allow(clippy::too_many_arguments)]
async fn sections(
    state: &State,
    db: &Db,
    registry: &Registry,
    admin: &ModelAdmin,
    values: &[Value],
    links: &[(String, Vec<Value>)],
    raw: Option<&FormInput>,
    errors: &Errors,
    creating: bool,
) -> turbine_orm::Result<Vec<J>> {
    let meta = &admin.meta;
    let shown = |f: &FieldMeta| {
        admin.visible(f)
            && !f.primary_key
            && (f.has_column() || is_m2m(f))
            && !(creating && automatic(f))
    };
    let mut placed: Vec<&str> = admin
        .sections
        .iter()
        .flat_map(|(_, fs)| fs.iter().map(String::as_str))
        .collect();
    placed.dedup();
    let mut groups: Vec<(Option<String>, Vec<&FieldMeta>)> = vec![(
        None,
        meta.fields
            .iter()
            .filter(|f| shown(f) && !placed.contains(&f.name.as_str()))
            .collect(),
    )];
    for (title, names) in &admin.sections {
        groups.push((
            Some(title.clone()),
            names
                .iter()
                .filter_map(|n| meta.field_named(n))
                .filter(|f| shown(f))
                .collect(),
        ));
    }
    let mut out = Vec::new();
    for (title, fields) in groups {
        if fields.is_empty() {
            continue;
        }
        let mut items = Vec::new();
        for f in fields {
            let value = column_index(meta, &f.name).and_then(|i| values.get(i));
            items.push(field(state, db, registry, admin, f, value, links, raw, errors).await?);
        }
        out.push(json!({"title": title, "fields": items}));
    }
    Ok(out)
}

/// One field of the form, for the template.
#[allow(clippy::too_many_arguments)]
pub(super) async fn field(
    state: &State,
    db: &Db,
    registry: &Registry,
    admin: &ModelAdmin,
    f: &FieldMeta,
    value: Option<&Value>,
    links: &[(String, Vec<Value>)],
    raw: Option<&FormInput>,
    errors: &Errors,
) -> turbine_orm::Result<J> {
    let editable = admin.editable(f) && !automatic(f);
    let text = match (raw, value) {
        (Some(form), _) if editable => form.get(&f.name).unwrap_or("").to_string(),
        (_, Some(v)) => input_text(v, f),
        _ => String::new(),
    };
    let mut out = json!({
        "name": f.name,
        "id": format!("field-{}", f.name),
        "label": f.label,
        "help": f.help_text,
        "error": errors.get(&f.name),
        "required": !f.nullable && f.default.is_none() && f.ty != FieldType::Bool,
        "value": text,
    });
    if !editable {
        out["widget"] = J::from("readonly");
        out["display"] = J::from(value.and_then(|v| show(v, f)).unwrap_or_else(|| "—".into()));
        return Ok(out);
    }
    let relation = f.relation.as_ref();
    let widget = match (&f.ty, relation.map(|r| r.kind)) {
        (_, Some(RelationKind::ManyToMany)) => {
            let target = relation.and_then(|r| registry.get(&r.to));
            let selected: Vec<String> = match raw {
                Some(form) => form.all(&f.name).into_iter().map(str::to_string).collect(),
                None => links
                    .iter()
                    .find(|(n, _)| *n == f.name)
                    .map(|(_, keys)| keys.iter().map(key_text).collect())
                    .unwrap_or_default(),
            };
            let mut options = Vec::new();
            if let Some(target) = target {
                let rows = Query::new(target).limit(MANY_OPTIONS).fetch(db).await?;
                for row in rows {
                    let key = super::row_key(target, row.values())
                        .map(|k| key_text(&k))
                        .unwrap_or_default();
                    options.push(json!({
                        "value": key,
                        "label": super::title_for(state, target, &row),
                        "selected": selected.contains(&key),
                    }));
                }
            }
            out["options"] = J::Array(options);
            "many"
        }
        (_, Some(_)) => {
            let target = relation.and_then(|r| registry.get(&r.to));
            if let Some(target) = target {
                out["picker"] = state
                    .by_label(&target.label())
                    .map(|t| J::from(format!("{}/{}/autocomplete", state.path, t.slug())))
                    .unwrap_or(J::Null);
                out["target"] = J::from(target.verbose_name.to_lowercase());
                if !text.is_empty()
                    && let Some((key, row)) = super::form::load(db, target, &text).await?
                {
                    let chosen = state
                        .by_label(&target.label())
                        .and_then(|a| a.title.as_deref());
                    out["current"] = J::from(row_title(chosen, target, &row));
                    out["current_url"] = J::from(item_url(state, target, &key));
                }
            }
            "foreign"
        }
        _ if !f.choices.is_empty() => {
            let mut options = vec![json!({"value": "", "label": "—", "selected": text.is_empty()})];
            options.extend(
                f.choices.iter().map(
                    |c| json!({"value": c.value, "label": c.label, "selected": c.value == text}),
                ),
            );
            out["options"] = J::Array(options);
            "select"
        }
        (FieldType::Bool, _) => {
            out["checked"] = J::from(match raw {
                Some(form) => form.get(&f.name).is_some(),
                None => matches!(value, Some(Value::Bool(Some(true)))),
            });
            "checkbox"
        }
        (FieldType::I16 | FieldType::I32 | FieldType::I64, _) => "integer",
        (FieldType::F32 | FieldType::F64 | FieldType::Decimal { .. }, _) => "decimal",
        (FieldType::String { max_length }, _) => {
            out["maxlength"] = J::from(*max_length);
            "text"
        }
        (FieldType::Text | FieldType::Bytes, _) => "textarea",
        (FieldType::Json, _) => "json",
        (FieldType::Date, _) => "date",
        (FieldType::Time, _) => "time",
        (FieldType::DateTime, _) => "datetime",
        _ => "text",
    };
    out["widget"] = J::from(widget);
    Ok(out)
}

/// Field errors for a database refusal the form can explain (a duplicate, a missing row).
fn db_errors(meta: &ModelMeta, e: &turbine_orm::Error) -> Option<Errors> {
    let field_of = |column: &str| {
        meta.fields
            .iter()
            .find(|f| f.column == column || f.name == column)
            .map(|f| f.name.clone())
    };
    let mut errors = Errors::new();
    match e {
        turbine_orm::Error::UniqueViolation { fields, .. } => {
            let names: Vec<String> = fields.iter().filter_map(|c| field_of(c)).collect();
            let labels: Vec<String> = names
                .iter()
                .filter_map(|n| meta.field_named(n).map(|f| f.label.to_lowercase()))
                .collect();
            let message = format!(
                "A {} with this {} already exists.",
                meta.verbose_name.to_lowercase(),
                if labels.is_empty() {
                    "value".to_string()
                } else {
                    labels.join(" and ")
                }
            );
            match names.first() {
                Some(n) => errors.insert(n.clone(), message),
                None => errors.insert("__all__".into(), message),
            };
        }
        turbine_orm::Error::ForeignKeyViolation { field, .. } => {
            let name = field.as_deref().and_then(field_of);
            errors.insert(
                name.unwrap_or_else(|| "__all__".into()),
                "The related object does not exist (any more).".into(),
            );
        }
        turbine_orm::Error::Validation { field, message } => {
            errors.insert(
                field_of(field).unwrap_or_else(|| field.clone()),
                message.clone(),
            );
        }
        turbine_orm::Error::CheckViolation { constraint, .. } => {
            errors.insert(
                "__all__".into(),
                format!("The values break the rule `{constraint}`."),
            );
        }
        _ => return None,
    }
    Some(errors)
}

/// Renders the form page.
#[allow(clippy::too_many_arguments)]
async fn form_page(
    state: &State,
    v: &Visitor,
    db: &Db,
    admin: &ModelAdmin,
    status: StatusCode,
    key: Option<&Value>,
    values: &[Value],
    links: &[(String, Vec<Value>)],
    raw: Option<&FormInput>,
    errors: &Errors,
) -> Response {
    let Some(registry) = db.registry() else {
        return super::server_error(state, "the database has no registry");
    };
    let meta = &admin.meta;
    let sections = match sections(
        state,
        db,
        registry,
        admin,
        values,
        links,
        raw,
        errors,
        key.is_none(),
    )
    .await
    {
        Ok(s) => s,
        Err(e) => return super::server_error(state, &e.to_string()),
    };
    let base_url = format!("{}/{}", state.path, admin.slug());
    let object = key.map(|_| row_title(admin.title.as_deref(), meta, values));
    let resolved = super::inline::resolve(state, v, registry, admin).await;
    let inlines =
        match super::inline::render(state, db, registry, &resolved, key, raw, errors).await {
            Ok(i) => i,
            Err(e) => return super::server_error(state, &e.to_string()),
        };
    let editable = match key {
        Some(_) => v.can(meta, "change").await,
        None => true,
    };
    let page = json!({
        "title": match &object {
            Some(o) => format!("Change {}: {o}", meta.verbose_name.to_lowercase()),
            None => format!("Add {}", meta.verbose_name.to_lowercase()),
        },
        "model": super::model_json(state, admin),
        "object": object,
        "creating": key.is_none(),
        "editable": editable,
        "sections": sections,
        "errors": !errors.is_empty(),
        "form_error": errors.get("__all__"),
        "action": match key {
            Some(k) => item_url(state, meta, k),
            None => format!("{base_url}/add"),
        },
        "history_url": key.map(|k| format!("{}/history", item_url(state, meta, k))),
        "delete_url": match key {
            Some(k) if v.can(meta, "delete").await => Some(format!("{}/delete", item_url(state, meta, k))),
            _ => None,
        },
        "inlines": inlines,
    });
    render(state, v, status, "form.html", page).await
}

/// `GET …/add`.
async fn add_page(
    state: &State,
    db: Db,
    visit: Visit,
    Path((app, model)): Path<(String, String)>,
) -> Response {
    let (v, admin) = match visit.model(state, &app, &model, "add").await {
        Ok(found) => found,
        Err(res) => return res,
    };
    let meta = &admin.meta;
    let mut values = blank(meta);
    // Defaults, then what the query string pre-fills.
    let _ = turbine_orm::crud::fill_defaults(meta, &mut values);
    let initial = FormInput::parse(visit.uri.query().unwrap_or("").as_bytes());
    for (i, f) in meta.fields.iter().filter(|f| f.has_column()).enumerate() {
        if let Some(text) = initial.get(&f.name)
            && let Ok(v) = parse_text(text, &f.ty)
        {
            values[i] = v;
        }
    }
    form_page(
        state,
        &v,
        &db,
        admin,
        StatusCode::OK,
        None,
        &values,
        &[],
        None,
        &Errors::new(),
    )
    .await
}

/// `POST …/add`.
#[allow(clippy::too_many_arguments)]
async fn add(
    state: &State,
    db: Db,
    visit: Visit,
    Path((app, model)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let (v, admin) = match visit.model(state, &app, &model, "add").await {
        Ok(found) => found,
        Err(res) => return res,
    };
    save(state, &v, &db, admin, None, &FormInput::parse(&body)).await
}

/// `GET …/{id}`.
#[allow(clippy::too_many_arguments)]
async fn change_page(
    state: &State,
    db: Db,
    visit: Visit,
    Path(path): Path<(String, String, String)>,
) -> Response {
    let (v, admin, key, values) = match visit.object(state, &db, &path, "view").await {
        Ok(found) => found,
        Err(res) => return res,
    };
    let links = match current_links(&db, &admin.meta, &key).await {
        Ok(l) => l,
        Err(e) => return super::server_error(state, &e.to_string()),
    };
    form_page(
        state,
        &v,
        &db,
        admin,
        StatusCode::OK,
        Some(&key),
        &values,
        &links,
        None,
        &Errors::new(),
    )
    .await
}

/// The keys each many-to-many field of a row links to.
async fn current_links(
    db: &Db,
    meta: &ModelMeta,
    key: &Value,
) -> turbine_orm::Result<Vec<(String, Vec<Value>)>> {
    let mut out = Vec::new();
    for f in meta.fields.iter().filter(|f| is_m2m(f)) {
        let link = M2mLink::resolve(db, meta, &f.name)?;
        out.push((f.name.clone(), link.target_keys(db, key.clone()).await?));
    }
    Ok(out)
}

/// `POST …/{id}`.
#[allow(clippy::too_many_arguments)]
async fn change(
    state: &State,
    db: Db,
    visit: Visit,
    Path(path): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    let (v, admin, key, values) = match visit.object(state, &db, &path, "change").await {
        Ok(found) => found,
        Err(res) => return res,
    };
    save(
        state,
        &v,
        &db,
        admin,
        Some((key, values)),
        &FormInput::parse(&body),
    )
    .await
}

/// Validates and saves a form (a new row when `existing` is `None`), then redirects the way
/// the button pressed asks.
async fn save(
    state: &State,
    v: &Visitor,
    db: &Db,
    admin: &ModelAdmin,
    existing: Option<(Value, Vec<Value>)>,
    form: &FormInput,
) -> Response {
    let Some(registry) = db.registry() else {
        return super::server_error(state, "the database has no registry");
    };
    let meta = &admin.meta;
    let (key, before) = match existing {
        Some((k, vals)) => (Some(k), Some(vals)),
        None => (None, None),
    };
    let mut values = before.clone().unwrap_or_else(|| blank(meta));
    let links_before = match &key {
        Some(k) => match current_links(db, meta, k).await {
            Ok(l) => l,
            Err(e) => return super::server_error(state, &e.to_string()),
        },
        None => Vec::new(),
    };
    let parent = forms::apply(admin, registry, form, &mut values);
    let resolved = super::inline::resolve(state, v, registry, admin).await;
    let rows = match super::inline::parse(db, registry, &resolved, key.as_ref(), form).await {
        Ok(r) => r,
        Err(e) => return super::server_error(state, &e.to_string()),
    };
    let errors = match (parent, rows) {
        (Ok(applied), Ok(ops)) => {
            let written = write(
                db,
                admin,
                &v.actor(),
                before.as_deref(),
                values.clone(),
                &applied,
                &links_before,
                &resolved,
                ops,
            )
            .await;
            match written {
                Ok(saved) => return done(state, v, admin, form, saved),
                Err(e) => match db_errors(meta, &e) {
                    Some(errors) => errors,
                    None => return super::server_error(state, &e.to_string()),
                },
            }
        }
        (parent, rows) => {
            let mut errors = parent.err().unwrap_or_default();
            errors.extend(rows.err().unwrap_or_default());
            errors
        }
    };
    form_page(
        state,
        v,
        db,
        admin,
        StatusCode::UNPROCESSABLE_ENTITY,
        key.as_ref(),
        before.as_deref().unwrap_or(&values),
        &links_before,
        Some(form),
        &errors,
    )
    .await
}

/// What a saved form wrote.
struct Saved {
    key: Value,
    title: String,
    /// `add` or `change`.
    action: &'static str,
    /// Whether anything was written (the row, its links or its inline rows).
    touched: bool,
}

/// Writes a valid form in one transaction: the row (only its changed fields), its
/// many-to-many links, its inline rows, and a log entry for each.
#[allow(clippy::too_many_arguments)]
async fn write(
    db: &Db,
    admin: &ModelAdmin,
    actor: &audit::Actor,
    before: Option<&[Value]>,
    values: Vec<Value>,
    applied: &forms::Applied,
    links_before: &[(String, Vec<Value>)],
    inlines: &[super::inline::Inline<'_>],
    ops: Vec<super::inline::Op>,
) -> turbine_orm::Result<Saved> {
    let meta = &admin.meta;
    db.transaction(|tx| async move {
        let (stored, action) = match before {
            Some(old) => {
                let changed: Vec<String> = applied
                    .written
                    .iter()
                    .filter(|name| {
                        column_index(meta, name).is_some_and(|i| old.get(i) != values.get(i))
                    })
                    .cloned()
                    .collect();
                let stored = if changed.is_empty() {
                    values
                } else {
                    admin.store.update(&tx, meta, values, Some(changed)).await?
                };
                (stored, "change")
            }
            None => (admin.store.insert(&tx, meta, values).await?, "add"),
        };
        let key = super::row_key(meta, &stored).unwrap_or(Value::BigInt(None));
        let mut changes = audit::diff(meta, before, &stored);
        for (field, keys) in &applied.links {
            let mut old: Vec<String> = links_before
                .iter()
                .find(|(n, _)| n == field)
                .map(|(_, k)| k.iter().map(key_text).collect())
                .unwrap_or_default();
            old.sort();
            let mut new: Vec<String> = keys.iter().map(key_text).collect();
            new.sort();
            new.dedup();
            if new == old && before.is_some() {
                continue;
            }
            let link = M2mLink::resolve(&tx, meta, field)?;
            link.clear(&tx, key.clone()).await?;
            link.add(&tx, key.clone(), keys.clone()).await?;
            changes[field.as_str()] = json!([old, new]);
        }
        let title = row_title(admin.title.as_deref(), meta, &stored);
        let mut touched = changes.as_object().is_some_and(|m| !m.is_empty());
        if touched || action == "add" {
            audit::record(
                &tx,
                actor,
                meta,
                key_text(&key),
                title.clone(),
                action,
                changes,
            )
            .await?;
        }
        touched |= super::inline::run(&tx, actor, inlines, ops, &key).await? > 0;
        Ok(Saved {
            key,
            title,
            action,
            touched,
        })
    })
    .await
}

/// After a save: the message, and where the button pressed leads.
fn done(
    state: &State,
    v: &Visitor,
    admin: &ModelAdmin,
    form: &FormInput,
    saved: Saved,
) -> Response {
    let meta = &admin.meta;
    super::after_write(v, meta);
    let (name, title) = (meta.verbose_name.to_lowercase(), &saved.title);
    let message = match (saved.action, saved.touched) {
        ("add", _) => format!("The {name} “{title}” was added."),
        (_, true) => format!("The {name} “{title}” was changed."),
        _ => format!("No fields changed on the {name} “{title}”."),
    };
    let base_url = format!("{}/{}", state.path, admin.slug());
    let to = if form.get("_continue").is_some() {
        item_url(state, meta, &saved.key)
    } else if form.get("_addanother").is_some() {
        format!("{base_url}/add")
    } else {
        base_url
    };
    redirect_with(state, &to, &message)
}
