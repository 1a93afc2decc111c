//! Deleting: a confirmation page listing everything the delete takes with it (rows deleted in
//! cascade, references cleared, rows that protect it), then the delete and its log entries in
//! one transaction.

use std::sync::Arc;

use axum::extract::Path;
use axum::response::Response;
use bytes::Bytes;
use http::StatusCode;
use serde_json::{Value as J, json};
use turbine_core::battery::Setup;
use turbine_core::routing::get;
use turbine_orm::meta::{ModelMeta, OnDelete, Registry, RelationKind};
use turbine_orm::query::{Expr, Filter, Lookup, Query};
use turbine_orm::{Db, Value};

use super::Visit;
use super::{Visitor, error_page, handler, item_url, redirect_with, render, row_title};
use crate::audit;
use crate::display::key_text;
use crate::model_admin::ModelAdmin;
use crate::site::State;

/// How deep the cascade is followed, and how many rows of each kind are named.
const DEPTH: usize = 4;
const SAMPLES: u64 = 10;
/// Rows of one relation whose own dependents are followed.
const FOLLOW: u64 = 1000;

pub(super) fn mount(setup: &mut Setup, state: &Arc<State>) {
    setup.route(
        &format!("{}/{{app}}/{{model}}/{{id}}/delete", state.path),
        get(handler!(state, confirm_page, db: Db, visit: Visit, path: Path<(String, String, String)>))
            .post(handler!(state, delete_one, db: Db, visit: Visit, path: Path<(String, String, String)>, body: Bytes)),
    );
}

/// What a delete takes with it.
#[derive(Default)]
pub(crate) struct Cascade {
    deleted: Vec<J>,
    cleared: Vec<J>,
    protected: Vec<J>,
}

impl Cascade {
    fn to_json(&self) -> J {
        json!({"deleted": self.deleted, "cleared": self.cleared, "protected": self.protected})
    }
}

/// Follows the rows pointing at `keys` of `meta`, `depth` levels down.
fn walk<'a>(
    state: &'a State,
    db: &'a Db,
    registry: &'a Registry,
    meta: &'a ModelMeta,
    keys: Vec<Value>,
    depth: usize,
    out: &'a mut Cascade,
) -> futures_util::future::BoxFuture<'a, turbine_orm::Result<()>> {
    Box::pin(async move {
        if keys.is_empty() || depth == 0 {
            return Ok(());
        }
        for (child, fk) in registry.related(&meta.label()) {
            let Some(rel) = &fk.relation else { continue };
            if rel.kind == RelationKind::ManyToMany {
                continue;
            }
            let q = Query::new(child).filter(Filter::field(
                fk.name.clone(),
                Lookup::In(keys.iter().cloned().map(Expr::Value).collect()),
            ));
            let n = q.count_upto(db, FOLLOW + 1).await?;
            if n == 0 {
                continue;
            }
            let rows = q.clone().limit(SAMPLES).fetch(db).await?;
            let items: Vec<J> = rows
                .iter()
                .map(|r| {
                    let k = super::row_key(child, r.values()).unwrap_or(Value::BigInt(None));
                    json!({"title": super::title_for(state, child, r),
                        "url": state.by_label(&child.label()).map(|_| item_url(state, child, &k))})
                })
                .collect();
            let entry = json!({
                "model": super::title_case(&child.verbose_name_plural),
                "field": fk.label,
                "count": if n > FOLLOW { format!("more than {FOLLOW}") } else { n.to_string() },
                "items": items,
            });
            match rel.on_delete {
                OnDelete::Cascade => {
                    out.deleted.push(entry);
                    let pk = child
                        .primary_key()
                        .map(|f| f.name.clone())
                        .unwrap_or_default();
                    let child_keys: Vec<Value> = q
                        .limit(FOLLOW)
                        .values(db, &[pk.as_str()])
                        .await?
                        .into_iter()
                        .filter_map(|r| r.into_values().into_iter().next())
                        .collect();
                    walk(state, db, registry, child, child_keys, depth - 1, out).await?;
                }
                OnDelete::SetNull => out.cleared.push(entry),
                OnDelete::Protect | OnDelete::Restrict => out.protected.push(entry),
            }
        }
        Ok(())
    })
}

/// What deleting `keys` of `admin`'s model takes with it.
pub(crate) async fn cascade(
    state: &State,
    db: &Db,
    admin: &ModelAdmin,
    keys: &[Value],
) -> turbine_orm::Result<Cascade> {
    let mut out = Cascade::default();
    if let Some(registry) = db.registry() {
        walk(
            state,
            db,
            registry,
            &admin.meta,
            keys.to_vec(),
            DEPTH,
            &mut out,
        )
        .await?;
    }
    Ok(out)
}

/// Deletes the rows (hooks run, through the model's store) and logs each, in one transaction.
async fn delete_rows(
    v: &Visitor,
    db: &Db,
    admin: &ModelAdmin,
    rows: Vec<(Value, Vec<Value>)>,
) -> turbine_orm::Result<usize> {
    let meta = &admin.meta;
    let actor = v.actor();
    let n = rows.len();
    db.transaction(|tx| async move {
        for (key, values) in rows {
            let title = row_title(admin.title.as_deref(), meta, &values);
            let changes = audit::removed(meta, &values);
            admin.store.delete(&tx, meta, values).await?;
            audit::record(&tx, &actor, meta, key_text(&key), title, "delete", changes).await?;
        }
        Ok::<_, turbine_orm::Error>(())
    })
    .await?;
    super::after_write(v, meta);
    Ok(n)
}

/// Words for a refused delete.
fn refusal(e: &turbine_orm::Error) -> Option<String> {
    match e {
        turbine_orm::Error::Protected { by, .. } => Some(format!(
            "It cannot be deleted: it is protected by {}.",
            by.join(", ")
        )),
        turbine_orm::Error::ForeignKeyViolation { .. } => {
            Some("It cannot be deleted: other rows still point at it (restrict).".into())
        }
        _ => None,
    }
}

/// `GET …/{id}/delete`.
#[allow(clippy::too_many_arguments)]
async fn confirm_page(
    state: &State,
    db: Db,
    visit: Visit,
    Path(path): Path<(String, String, String)>,
) -> Response {
    let (v, admin, key, values) = match visit.object(state, &db, &path, "delete").await {
        Ok(found) => found,
        Err(res) => return res,
    };
    let title = row_title(admin.title.as_deref(), &admin.meta, &values);
    confirm(
        state,
        &v,
        &db,
        admin,
        vec![(key, title)],
        None,
        StatusCode::OK,
    )
    .await
}

/// Renders the confirmation page for `objects` (key, title).
async fn confirm(
    state: &State,
    v: &Visitor,
    db: &Db,
    admin: &ModelAdmin,
    objects: Vec<(Value, String)>,
    back: Option<&str>,
    status: StatusCode,
) -> Response {
    let keys: Vec<Value> = objects.iter().map(|(k, _)| k.clone()).collect();
    let cascade = match cascade(state, db, admin, &keys).await {
        Ok(c) => c,
        Err(e) => return super::server_error(state, &e.to_string()),
    };
    let meta = &admin.meta;
    let base_url = format!("{}/{}", state.path, admin.slug());
    let single = back.is_none();
    let page = json!({
        "title": "Are you sure?",
        "model": super::model_json(state, admin),
        "objects": objects.iter().map(|(k, t)| json!({"key": key_text(k), "title": t, "url": item_url(state, meta, k)})).collect::<Vec<_>>(),
        "cascade": cascade.to_json(),
        "blocked": !cascade.protected.is_empty(),
        "action": if single { format!("{}/delete", item_url(state, meta, &keys[0])) } else { base_url.clone() },
        "bulk": !single,
        "back": back.unwrap_or(""),
        "cancel": if single { item_url(state, meta, &keys[0]) } else { format!("{base_url}{}", back.unwrap_or("")) },
    });
    render(state, v, status, "delete.html", page).await
}

/// `POST …/{id}/delete`.
#[allow(clippy::too_many_arguments)]
async fn delete_one(
    state: &State,
    db: Db,
    visit: Visit,
    Path(path): Path<(String, String, String)>,
    _body: Bytes,
) -> Response {
    let (v, admin, key, values) = match visit.object(state, &db, &path, "delete").await {
        Ok(found) => found,
        Err(res) => return res,
    };
    let title = row_title(admin.title.as_deref(), &admin.meta, &values);
    match delete_rows(&v, &db, admin, vec![(key, values)]).await {
        Ok(_) => redirect_with(
            state,
            &format!("{}/{}", state.path, admin.slug()),
            &format!(
                "The {} “{title}” was deleted.",
                admin.meta.verbose_name.to_lowercase()
            ),
        ),
        Err(e) => match refusal(&e) {
            Some(m) => error_page(state, &v, StatusCode::CONFLICT, &m).await,
            None => super::server_error(state, &e.to_string()),
        },
    }
}

/// The list's bulk delete: asks first (`confirmed` = the second step), then deletes.
pub(crate) async fn bulk(
    state: &State,
    v: &Visitor,
    db: &Db,
    admin: &ModelAdmin,
    keys: Vec<Value>,
    confirmed: bool,
    back: &str,
) -> Response {
    let meta = &admin.meta;
    let Some(pk) = meta.primary_key() else {
        return super::server_error(state, "a model without a primary key");
    };
    let rows = match Query::new(meta)
        .filter(Filter::field(
            pk.name.clone(),
            Lookup::In(keys.into_iter().map(Expr::Value).collect()),
        ))
        .fetch(db)
        .await
    {
        Ok(r) => r,
        Err(e) => return super::server_error(state, &e.to_string()),
    };
    let rows: Vec<(Value, Vec<Value>)> = rows
        .into_iter()
        .map(|r| {
            let values = super::typed(meta, r.into_values());
            (
                super::row_key(meta, &values).unwrap_or(Value::BigInt(None)),
                values,
            )
        })
        .collect();
    if !confirmed {
        let objects = rows
            .iter()
            .map(|(k, vals)| (k.clone(), row_title(admin.title.as_deref(), meta, vals)))
            .collect();
        return confirm(state, v, db, admin, objects, Some(back), StatusCode::OK).await;
    }
    let list_url = format!(
        "{}/{}{}",
        state.path,
        admin.slug(),
        back.trim_end_matches('?')
    );
    match delete_rows(v, db, admin, rows).await {
        Ok(n) => redirect_with(
            state,
            &list_url,
            &format!(
                "Deleted {n} {}.",
                if n == 1 {
                    meta.verbose_name.to_lowercase()
                } else {
                    meta.verbose_name_plural.to_lowercase()
                }
            ),
        ),
        Err(e) => match refusal(&e) {
            Some(m) => error_page(state, v, StatusCode::CONFLICT, &m).await,
            None => super::server_error(state, &e.to_string()),
        },
    }
}
