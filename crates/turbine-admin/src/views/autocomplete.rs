//! The picker behind foreign-key inputs and filters: up to 20 rows matching the typed words,
//! as an HTML fragment htmx puts under the input.

use std::sync::Arc;

use axum::extract::Path;
use axum::response::Response;
use http::StatusCode;
use serde_json::json;
use turbine_core::battery::Setup;
use turbine_core::routing::get;
use turbine_orm::Db;

use super::Visit;
use super::handler;
use crate::display::key_text;
use crate::forms::FormInput;
use crate::site::State;

/// Rows offered.
const LIMIT: u64 = 20;

pub(super) fn mount(setup: &mut Setup, state: &Arc<State>) {
    setup.route(
        &format!("{}/{{app}}/{{model}}/autocomplete", state.path),
        get(handler!(state, suggest, db: Db, visit: Visit, path: Path<(String, String)>)),
    );
}

/// `GET …/autocomplete?_ac_q=words`: needs the view permission on the model offered.
async fn suggest(
    state: &State,
    db: Db,
    visit: Visit,
    Path((app, model)): Path<(String, String)>,
) -> Response {
    let (v, admin) = match visit.model(state, &app, &model, "view").await {
        Ok(found) => found,
        Err(res) => return res,
    };
    let params = FormInput::parse(visit.uri.query().unwrap_or("").as_bytes());
    let words = params.get("_ac_q").unwrap_or("");
    let search = FormInput::parse(
        form_urlencoded::Serializer::new(String::new())
            .append_pair("q", words)
            .finish()
            .as_bytes(),
    );
    let Some(registry) = db.registry() else {
        return super::server_error(state, "the database has no registry");
    };
    let lq = match super::list::build(admin, registry, &search) {
        Ok(q) => q,
        Err(m) => return super::error_page(state, &v, StatusCode::BAD_REQUEST, &m).await,
    };
    let rows = match lq.query.limit(LIMIT).fetch(&db).await {
        Ok(r) => r,
        Err(e) => return super::server_error(state, &e.to_string()),
    };
    let items: Vec<_> = rows
        .iter()
        .map(|r| {
            let key = super::row_key(&admin.meta, r.values())
                .map(|k| key_text(&k))
                .unwrap_or_default();
            json!({"key": key, "title": super::title_for(state, &admin.meta, r)})
        })
        .collect();
    state.templates.page(
        StatusCode::OK,
        "autocomplete.html",
        &json!({"items": items, "words": words}),
    )
}
