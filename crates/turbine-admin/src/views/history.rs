//! History: the log of one object, and of the whole site (newest first, in keyset pages).

use std::sync::Arc;

use axum::extract::Path;
use axum::response::Response;
use http::StatusCode;
use serde_json::json;
use turbine_core::battery::Setup;
use turbine_core::routing::get;
use turbine_orm::{Db, ModelExt};

use super::Visit;
use super::dashboard::{Related, entry_json};
use super::{error_page, handler, item_url, render, row_title};
use crate::audit::LogEntry;
use crate::forms::FormInput;
use crate::site::State;

/// Entries per page of the site's log.
const PER_PAGE: u64 = 50;

pub(super) fn mount(setup: &mut Setup, state: &Arc<State>) {
    setup.route(
        &format!("{}/history", state.path),
        get(handler!(state, site_log, db: Db, visit: Visit)),
    );
    setup.route(
        &format!("{}/{{app}}/{{model}}/{{id}}/history", state.path),
        get(
            handler!(state, object_log, db: Db, visit: Visit, path: Path<(String, String, String)>),
        ),
    );
}

/// `GET /admin/history[?before=ID]`: every change to models the visitor may view.
async fn site_log(state: &State, db: Db, visit: Visit) -> Response {
    let v = match visit.staff(state).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let params = FormInput::parse(visit.uri.query().unwrap_or("").as_bytes());
    let before = params.get("before").and_then(|b| b.parse::<i64>().ok());
    let mut q = LogEntry::objects().order_by([LogEntry::ID.desc()]);
    if let Some(b) = before {
        q = q.filter(LogEntry::ID.lt(b));
    }
    let entries = match q.limit(PER_PAGE + 1).all(&db).await {
        Ok(e) => e,
        Err(e) => return super::server_error(state, &e.to_string()),
    };
    let more = entries.len() as u64 > PER_PAGE;
    let mut visible = Vec::new();
    let mut last = None;
    for e in entries.into_iter().take(PER_PAGE as usize) {
        last = Some(e.id);
        if let Some(a) = state.by_label(&e.model)
            && v.can(&a.meta, "view").await
        {
            visible.push(e);
        }
    }
    let related = Related::load(state, &db, &visible).await;
    let shown: Vec<_> = visible
        .iter()
        .map(|e| entry_json(state, e, &related))
        .collect();
    let next_url = match (more, last) {
        (true, Some(id)) => Some(format!("{}/history?before={id}", state.path)),
        _ => None,
    };
    render(
        state,
        &v,
        StatusCode::OK,
        "history.html",
        json!({
            "title": "History", "entries": shown, "next_url": next_url, "object": null,
        }),
    )
    .await
}

/// `GET /admin/{app}/{model}/{id}/history`.
#[allow(clippy::too_many_arguments)]
async fn object_log(
    state: &State,
    db: Db,
    visit: Visit,
    Path((app, model, id)): Path<(String, String, String)>,
) -> Response {
    let (v, admin) = match visit.model(state, &app, &model, "view").await {
        Ok(found) => found,
        Err(res) => return res,
    };
    let meta = &admin.meta;
    let entries = LogEntry::objects()
        .filter(
            LogEntry::MODEL
                .eq(meta.label())
                .and(LogEntry::OBJECT_ID.eq(id.clone())),
        )
        .order_by([LogEntry::ID.desc()])
        .limit(500)
        .all(&db)
        .await;
    let entries = match entries {
        Ok(e) => e,
        Err(e) => return super::server_error(state, &e.to_string()),
    };
    let current = match super::form::load(&db, meta, &id).await {
        Ok(found) => found,
        Err(e) => return super::server_error(state, &e.to_string()),
    };
    if current.is_none() && entries.is_empty() {
        return error_page(
            state,
            &v,
            StatusCode::NOT_FOUND,
            "There is no such row, and no history of one.",
        )
        .await;
    }
    let related = Related::load(state, &db, &entries).await;
    let object = match &current {
        Some((key, values)) => {
            json!({"title": row_title(admin.title.as_deref(), meta, values), "url": item_url(state, meta, key)})
        }
        None => {
            json!({"title": entries.first().map(|e| e.object_repr.clone()).unwrap_or_default(), "url": null})
        }
    };
    render(
        state,
        &v,
        StatusCode::OK,
        "history.html",
        json!({
            "title": format!("History: {}", object["title"].as_str().unwrap_or("")),
            "model": super::model_json(state, admin),
            "object": object,
            "entries": entries.iter().map(|e| entry_json(state, e, &related)).collect::<Vec<_>>(),
            "next_url": null,
        }),
    )
    .await
}
