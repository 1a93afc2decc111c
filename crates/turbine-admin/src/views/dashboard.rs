//! The dashboard: the models the visitor may see, by app, and the latest changes.

use axum::response::Response;
use http::StatusCode;
use serde_json::{Value as J, json};
use turbine_orm::{Db, ModelExt};

use super::Visit;
use super::{Visitor, render};
use crate::audit::LogEntry;
use crate::site::State;

/// `GET /admin`.
pub(super) async fn show(state: &State, visit: Visit) -> Response {
    let v = match visit.staff(state).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let db = v.user.auth().db().clone();
    let recent = match recent_actions(state, &v, &db, 10).await {
        Ok(r) => r,
        Err(e) => return super::server_error(state, &e.to_string()),
    };
    render(
        state,
        &v,
        StatusCode::OK,
        "dashboard.html",
        json!({"title": "Dashboard", "recent": recent}),
    )
    .await
}

/// The latest `n` log entries about models the visitor may view, for templates.
pub(super) async fn recent_actions(
    state: &State,
    v: &Visitor,
    db: &Db,
    n: u64,
) -> turbine_orm::Result<Vec<J>> {
    let entries = LogEntry::objects()
        .order_by([LogEntry::ID.desc()])
        .limit(n * 3)
        .all(db)
        .await?;
    let mut out = Vec::new();
    for e in entries {
        if out.len() as u64 >= n {
            break;
        }
        if let Some(admin) = state.by_label(&e.model)
            && v.can(&admin.meta, "view").await
        {
            out.push(entry_json(state, &e));
        }
    }
    Ok(out)
}

/// A log entry for templates.
pub(super) fn entry_json(state: &State, e: &LogEntry) -> J {
    let admin = state.by_label(&e.model);
    let url = match (admin, e.action.as_str()) {
        (Some(a), "add" | "change") => Some(format!(
            "{}/{}/{}",
            state.path,
            a.slug(),
            percent_encoding::utf8_percent_encode(&e.object_id, percent_encoding::NON_ALPHANUMERIC)
        )),
        _ => None,
    };
    let changes: Vec<J> = match &e.changes {
        J::Object(map) => map
            .iter()
            .map(|(field, pair)| {
                let label = admin
                    .and_then(|a| a.meta.field_named(field))
                    .map(|f| f.label.clone())
                    .unwrap_or_else(|| field.clone());
                let side = |i: usize| match pair.get(i) {
                    Some(J::Null) | None => J::Null,
                    Some(J::String(s)) => J::String(crate::display::clip(s, 200)),
                    Some(other) => J::String(crate::display::clip(&other.to_string(), 200)),
                };
                json!({"field": label, "before": side(0), "after": side(1)})
            })
            .collect(),
        _ => Vec::new(),
    };
    json!({
        "id": e.id,
        "at": e.action_time.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        "user": e.user_email,
        "model": admin.map(|a| a.meta.verbose_name.clone()).unwrap_or_else(|| e.model.clone()),
        "object_id": e.object_id,
        "object": e.object_repr,
        "action": e.action,
        "url": url,
        "changes": changes,
    })
}
