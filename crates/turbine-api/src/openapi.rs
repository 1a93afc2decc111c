//! The OpenAPI 3.1 document: every resource's operations generated from its metadata and
//! configuration (fields, filters, ordering, pagination, permissions, conditional requests),
//! the problem+json error schema, bearer and cookie security, and what the app documents of
//! its own handlers (utoipa's OpenAPI model, merged in).

use serde_json::{Map, Value as J, json};
use turbine_orm::meta::{FieldMeta, FieldType};

use crate::api::ApiState;
use crate::list::RESERVED;
use crate::resource::{Op, Pagination, Resource, Rule};

/// What the document says about the API as a whole.
#[derive(Debug, Clone)]
pub(crate) struct Info {
    pub(crate) title: String,
    pub(crate) version: String,
    pub(crate) description: Option<String>,
}

impl Default for Info {
    fn default() -> Self {
        Self {
            title: "API".into(),
            version: "0.1.0".into(),
            description: None,
        }
    }
}

/// `blog.Post` → `Post`; two models of one name in different apps get their app in front.
fn schema_name(state: &ApiState, r: &Resource) -> String {
    let clash = state
        .resources
        .iter()
        .any(|o| o.meta.name == r.meta.name && o.meta.app != r.meta.app);
    if clash {
        let mut app = r.meta.app.clone();
        if let Some(first) = app.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        format!("{app}{}", r.meta.name)
    } else {
        r.meta.name.clone()
    }
}

/// The JSON Schema of a field's values (`null` allowed when nullable).
pub(crate) fn field_schema(f: &FieldMeta) -> J {
    let mut s = match &f.ty {
        FieldType::Bool => json!({"type": "boolean"}),
        FieldType::I16 => json!({"type": "integer", "minimum": i16::MIN, "maximum": i16::MAX}),
        FieldType::I32 => json!({"type": "integer", "format": "int32"}),
        FieldType::I64 => json!({"type": "integer", "format": "int64"}),
        FieldType::F32 => json!({"type": "number", "format": "float"}),
        FieldType::F64 => json!({"type": "number", "format": "double"}),
        FieldType::Decimal { precision, scale } => json!({
            "type": "string",
            "pattern": format!("^-?[0-9]{{1,{}}}(\\.[0-9]{{1,{}}})?$", precision.saturating_sub(*scale).max(1), (*scale).max(1)),
            "description": format!("A decimal number with at most {precision} digits, {scale} after the point."),
        }),
        FieldType::String { max_length } => json!({"type": "string", "maxLength": max_length}),
        FieldType::Text => json!({"type": "string"}),
        FieldType::Bytes => json!({"type": "string", "contentEncoding": "base64"}),
        FieldType::Uuid => json!({"type": "string", "format": "uuid"}),
        FieldType::Date => json!({"type": "string", "format": "date"}),
        FieldType::Time => {
            json!({"type": "string", "pattern": "^[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?$"})
        }
        FieldType::DateTime => json!({"type": "string", "format": "date-time"}),
        FieldType::Json => json!({}),
        _ => json!({}),
    };
    let obj = s.as_object_mut().expect("a schema object");
    if !f.choices.is_empty() {
        obj.insert(
            "enum".into(),
            f.choices.iter().map(|c| J::from(c.value.clone())).collect(),
        );
    }
    if f.nullable
        && let Some(t) = obj.get("type").cloned()
    {
        obj.insert("type".into(), json!([t, "null"]));
        if let Some(J::Array(values)) = obj.get_mut("enum") {
            values.push(J::Null);
        }
    }
    obj.insert("title".into(), J::from(f.label.clone()));
    if let Some(help) = &f.help_text {
        obj.insert("description".into(), J::from(help.clone()));
    }
    s
}

fn reference(name: &str) -> J {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn problem_response(description: &str) -> J {
    json!({
        "description": description,
        "content": {"application/problem+json": {"schema": reference("Problem")}},
    })
}

/// The schemas of a resource: what clients read, and what they write on create, full
/// update and partial update.
fn schemas(state: &ApiState, r: &Resource, out: &mut Map<String, J>) {
    let name = schema_name(state, r);
    if out.contains_key(&name) {
        return; // a nested collection of a model that has its own resource
    }
    let mut props = Map::new();
    // Only the key is always there: `fields` may leave the others out.
    let required = vec![J::from(r.key().1.name.clone())];
    let expansions = state.expansions.get().map(|e| &e[state.index_of(r)]);
    for (_, f) in r.readable() {
        let mut s = field_schema(f);
        if r.read_only.contains(&f.name) {
            s["readOnly"] = J::Bool(true);
        }
        // An expandable foreign key holds the key, or the object when expanded.
        if let Some(crate::api::Expand::Forward { target }) =
            expansions.and_then(|e| e.get(&f.name))
        {
            let target_name = schema_name(state, &state.resources[*target]);
            let mut object = reference(&target_name);
            if f.nullable {
                object = json!({"oneOf": [object, {"type": "null"}]});
            }
            s = json!({"anyOf": [s, object], "description": format!("The key, or the {} itself with `expand={}`.", state.resources[*target].meta.verbose_name, f.name)});
        }
        props.insert(f.name.clone(), s);
    }
    for c in &r.computed {
        let mut s = c.schema.clone();
        if let Some(o) = s.as_object_mut() {
            o.insert("readOnly".into(), J::Bool(true));
        }
        if let Some(o) = s.as_object_mut() {
            o.entry("description").or_insert_with(|| {
                J::from("Computed; absent where the object is expanded inside another.")
            });
        }
        props.insert(c.name.clone(), s);
    }
    if let Some(expansions) = expansions {
        for (rel, e) in expansions {
            if let crate::api::Expand::Reverse { child, nested, .. } = e {
                let child_name = schema_name(state, &state.resources[*child]);
                let mut item = reference(&child_name);
                if !nested.is_empty() {
                    item = json!({"allOf": [item]});
                }
                props.insert(
                    rel.clone(),
                    json!({"type": "array", "items": item, "description": format!("Only with `expand={rel}`.")}),
                );
            }
        }
    }
    out.insert(
        name.clone(),
        json!({"type": "object", "title": r.meta.verbose_name, "properties": props, "required": required}),
    );
    for (suffix, mode_required) in [("Create", true), ("Update", true), ("Patch", false)] {
        let mut props = Map::new();
        let mut required = Vec::new();
        for (_, f) in r.writable(suffix == "Create") {
            props.insert(f.name.clone(), field_schema(f));
            if mode_required && Resource::required(f) {
                required.push(J::from(f.name.clone()));
            }
        }
        let mut s = json!({"type": "object", "properties": props});
        if r.strict {
            s["additionalProperties"] = J::Bool(false);
        }
        if !required.is_empty() {
            s["required"] = J::Array(required);
        }
        out.insert(format!("{name}{suffix}"), s);
    }
    let page = match r.pagination {
        Pagination::Cursor => json!({
            "type": "object",
            "properties": {
                "items": {"type": "array", "items": reference(&name)},
                "next_cursor": {"type": ["string", "null"], "description": "Pass as `cursor` for the next page; null on the last page."},
                "next": {"type": ["string", "null"], "description": "The next page's path and query."},
            },
            "required": ["items", "next_cursor", "next"],
        }),
        Pagination::PageNumber => json!({
            "type": "object",
            "properties": {
                "items": {"type": "array", "items": reference(&name)},
                "count": {"type": "integer", "minimum": 0},
                "next": {"type": ["string", "null"]},
                "previous": {"type": ["string", "null"]},
            },
            "required": ["items", "count", "next", "previous"],
        }),
    };
    out.insert(format!("{name}Page"), page);
}

/// Lookups worth offering as parameters for a field, by type.
fn lookups(f: &FieldMeta) -> &'static [&'static str] {
    if f.relation.is_some() {
        return &["in", "isnull"];
    }
    match f.ty {
        FieldType::String { .. } | FieldType::Text => &["icontains", "startswith", "in", "isnull"],
        FieldType::Bool | FieldType::Json => &["isnull"],
        _ => &["gt", "gte", "lt", "lte", "in", "isnull"],
    }
}

fn query_param(name: &str, schema: J, description: &str) -> J {
    json!({"name": name, "in": "query", "required": false, "schema": schema, "description": description})
}

fn list_params(state: &ApiState, r: &Resource) -> Vec<J> {
    let mut params = Vec::new();
    for key in &r.filter_fields {
        let mut parts = key.split("__");
        let head = parts.next().unwrap_or(key);
        let Some(mut f) = r.meta.field_named(head) else {
            continue;
        };
        // Through a foreign key: the related model's field (a JSON key path ends here).
        for part in parts {
            let next = f
                .relation
                .as_ref()
                .and_then(|rel| state.resources.iter().find(|x| x.meta.label() == rel.to))
                .and_then(|target| target.meta.field_named(part));
            match next {
                Some(n) => f = n,
                None => break,
            }
        }
        let mut base = field_schema(f);
        if let Some(o) = base.as_object_mut() {
            // A filter value is only compared: one longer than the field, or not one of its
            // choices, matches nothing rather than being refused.
            for k in ["title", "maxLength", "enum", "pattern", "description"] {
                o.remove(k);
            }
        }
        if f.ty == FieldType::Json {
            base = json!({"type": "string"});
        }
        if let Some(o) = base.as_object_mut()
            && matches!(o.get("type"), Some(J::Array(_)))
        {
            // Query values are never JSON null.
            o.insert("type".into(), o["type"][0].clone());
            if let Some(J::Array(e)) = o.get_mut("enum") {
                e.retain(|v| !v.is_null());
            }
        }
        params.push(query_param(
            key,
            base.clone(),
            &format!("Only rows whose {} equals this.", f.label),
        ));
        for lookup in lookups(f) {
            let schema = match *lookup {
                "isnull" => json!({"type": "boolean"}),
                "in" => json!({"type": "string", "description": "comma-separated values"}),
                "icontains" | "startswith" => json!({"type": "string"}),
                _ => base.clone(),
            };
            params.push(query_param(
                &format!("{key}__{lookup}"),
                schema,
                &format!("`{lookup}` lookup on {}.", f.label),
            ));
        }
    }
    if !r.search_fields.is_empty() {
        params.push(query_param(
            "search",
            json!({"type": "string"}),
            &format!(
                "Words that must each appear in one of: {}.",
                r.search_fields.join(", ")
            ),
        ));
    }
    if !r.ordering_fields.is_empty() {
        let choices: Vec<String> = r
            .ordering_fields
            .iter()
            .flat_map(|f| [f.clone(), format!("-{f}")])
            .collect();
        params.push(query_param(
            "ordering",
            json!({"type": "string"}),
            &format!(
                "Comma-separated sort keys, `-` for descending: {}.",
                choices.join(", ")
            ),
        ));
    }
    params.push(query_param(
        "limit",
        json!({"type": "integer", "minimum": 1, "maximum": r.max_page_size}),
        &format!("Rows per page (default {}).", r.page_size),
    ));
    match r.pagination {
        Pagination::Cursor => params.push(query_param(
            "cursor",
            json!({"type": "string"}),
            "The `next_cursor` of the previous page.",
        )),
        Pagination::PageNumber => params.push(query_param(
            "page",
            json!({"type": "integer", "minimum": 1}),
            "The page number.",
        )),
    }
    params.extend(shape_params(state, r));
    params
}

/// `fields` and `expand`.
fn shape_params(state: &ApiState, r: &Resource) -> Vec<J> {
    let expandable = state.expandable(state.index_of(r));
    let readable: Vec<&str> = r
        .readable()
        .map(|(_, f)| f.name.as_str())
        .chain(r.computed.iter().map(|c| c.name.as_str()))
        .collect();
    let mut out = vec![query_param(
        "fields",
        json!({"type": "string"}),
        &format!("Comma-separated fields to return: {}.", readable.join(", ")),
    )];
    if !expandable.is_empty() {
        out.push(query_param(
            "expand",
            json!({"type": "string"}),
            &format!(
                "Comma-separated relations to include as objects: {}.",
                expandable.join(", ")
            ),
        ));
    }
    out
}

fn security(rule: Rule) -> J {
    match rule {
        Rule::Anyone => json!([{}, {"bearer": []}, {"cookie": []}]),
        _ => json!([{"bearer": []}, {"cookie": []}]),
    }
}

fn denials(rule: Rule, responses: &mut Map<String, J>) {
    if rule != Rule::Anyone {
        responses.insert(
            "401".into(),
            problem_response("Not signed in (or the credentials expired)."),
        );
        responses.insert("403".into(), problem_response("Not allowed."));
    }
}

/// A field's schema for a path parameter (the parameter has its own name, not the field's title).
fn path_schema(f: &FieldMeta) -> J {
    let mut s = field_schema(f);
    if let Some(o) = s.as_object_mut() {
        o.remove("title");
    }
    s
}

fn etag_header() -> J {
    json!({"ETag": {"description": "The representation's entity tag.", "schema": {"type": "string"}}})
}

fn if_none_match() -> J {
    json!({"name": "If-None-Match", "in": "header", "required": false, "schema": {"type": "string"}})
}

/// The answers of a read (a page or an object): 200 with its `ETag`, 304, 400, 401, 403.
fn read_responses(description: &str, schema: &str, rule: Rule) -> Map<String, J> {
    let mut responses = Map::new();
    responses.insert(
        "200".into(),
        json!({"description": description, "headers": etag_header(), "content": json_content(reference(schema))}),
    );
    responses.insert(
        "304".into(),
        json!({"description": "Not modified (If-None-Match)."}),
    );
    responses.insert(
        "400".into(),
        problem_response("A parameter is not allowed or not valid."),
    );
    denials(rule, &mut responses);
    responses
}

fn json_content(schema: J) -> J {
    json!({"application/json": {"schema": schema}})
}

fn operations(state: &ApiState, r: &Resource, paths: &mut Map<String, J>) {
    let name = schema_name(state, r);
    let tag = r.meta.verbose_name_plural.clone();
    let segment = r.path.trim_matches('/').replace(['/', '{', '}'], "_");
    let mut path_params = Vec::new();
    if let Some((field, _)) = &r.parent {
        let f = r.meta.field_named(field);
        path_params.push(json!({"name": "parent", "in": "path", "required": true,
            "schema": f.map(path_schema).unwrap_or(json!({"type": "string"})),
            "description": format!("The key of the {field}.")}));
    }
    let mut collection = Map::new();
    let list_op = |rule: Rule, op_id: String, summary: String, path_params: &[J]| {
        let mut responses = read_responses("One page.", &format!("{name}Page"), rule);
        if r.parent.is_some() {
            responses.insert("404".into(), problem_response("The parent does not exist."));
        }
        let mut params = path_params.to_vec();
        params.extend(list_params(state, r));
        params.push(if_none_match());
        json!({
            "operationId": op_id,
            "summary": summary,
            "tags": [tag],
            "parameters": params,
            "security": security(rule),
            "responses": responses,
        })
    };
    if r.allows(Op::List) {
        collection.insert(
            "get".into(),
            list_op(
                r.rule(Op::List),
                format!("list_{segment}"),
                format!("List {}", r.meta.verbose_name_plural),
                &path_params,
            ),
        );
    }
    for v in &r.views {
        paths.insert(
            format!("{}/{}", r.path, v.name),
            json!({"get": list_op(v.rule, format!("list_{segment}_{}", v.name), v.summary.clone(), &[])}),
        );
    }
    if r.allows(Op::Create) {
        let rule = r.rule(Op::Create);
        let mut responses = Map::new();
        let mut headers = etag_header().as_object().cloned().unwrap_or_default();
        headers.insert(
            "Location".into(),
            json!({"description": "Where the new object is.", "schema": {"type": "string"}}),
        );
        let mut created = json!({"description": "Created.", "headers": headers, "content": json_content(reference(&name))});
        if r.parent.is_none() && r.allows(Op::Retrieve) {
            let (_, pk) = r.lookup_field();
            created["links"] = json!({
                "get": {"operationId": format!("get_{segment}"), "parameters": {"id": format!("$response.body#/{}", pk.name)}},
                "update": {"operationId": format!("update_{segment}"), "parameters": {"id": format!("$response.body#/{}", pk.name)}},
                "partial_update": {"operationId": format!("partial_update_{segment}"), "parameters": {"id": format!("$response.body#/{}", pk.name)}},
                "delete": {"operationId": format!("delete_{segment}"), "parameters": {"id": format!("$response.body#/{}", pk.name)}},
            });
            if let Some(links) = created["links"].as_object_mut() {
                links.retain(|k, _| match k.as_str() {
                    "update" => r.allows(Op::Update),
                    "partial_update" => r.allows(Op::PartialUpdate),
                    "delete" => r.allows(Op::Delete),
                    _ => true,
                });
            }
        }
        responses.insert("201".into(), created);
        responses.insert("400".into(), problem_response("The body is not a JSON object, names unknown fields, or the Idempotency-Key is malformed."));
        denials(rule, &mut responses);
        if r.parent.is_some() {
            responses.insert("404".into(), problem_response("The parent does not exist."));
        }
        responses.insert(
            "409".into(),
            problem_response(
                "A unique value is taken, or a retry with this Idempotency-Key is in progress.",
            ),
        );
        responses.insert("422".into(), problem_response("Invalid fields (`errors` lists each), or the Idempotency-Key was used with another body."));
        let mut params = path_params.clone();
        params.push(json!({"name": "Idempotency-Key", "in": "header", "required": false,
            "schema": {"type": "string", "minLength": 1, "maxLength": crate::idempotency::MAX_KEY_LEN, "pattern": "^[!-~]+$"},
            "description": "Retrying with the same key returns the first response instead of creating twice."}));
        collection.insert("post".into(), json!({
            "operationId": format!("create_{segment}"),
            "summary": format!("Create a {}", r.meta.verbose_name),
            "tags": [tag],
            "parameters": params,
            "security": security(rule),
            "requestBody": {"required": true, "content": json_content(reference(&format!("{name}Create")))},
            "responses": responses,
        }));
    }
    if !collection.is_empty() {
        paths.insert(r.path.clone(), J::Object(collection));
    }
    let (_, pk) = r.lookup_field();
    let id_schema = path_schema(pk);
    let id = json!({"name": "id", "in": "path", "required": true, "schema": id_schema});
    let if_match = json!({"name": "If-Match", "in": "header", "required": false, "schema": {"type": "string"},
        "description": "Only if the object's ETag is still this (else 412)."});
    let mut item = Map::new();
    if r.allows(Op::Retrieve) {
        let rule = r.rule(Op::Retrieve);
        let mut responses = read_responses("The object.", &name, rule);
        responses.insert("404".into(), problem_response("No such object."));
        let mut params = vec![id.clone()];
        params.extend(shape_params(state, r));
        params.push(if_none_match());
        item.insert(
            "get".into(),
            json!({
                "operationId": format!("get_{segment}"),
                "summary": format!("Get a {}", r.meta.verbose_name),
                "tags": [tag],
                "parameters": params,
                "security": security(rule),
                "responses": responses,
            }),
        );
    }
    for (op, method, prefix, body) in [
        (Op::Update, "put", "update", "Update"),
        (Op::PartialUpdate, "patch", "partial_update", "Patch"),
    ] {
        if !r.allows(op) {
            continue;
        }
        let rule = r.rule(op);
        let mut responses = Map::new();
        responses.insert("200".into(), json!({"description": "The updated object.", "headers": etag_header(), "content": json_content(reference(&name))}));
        responses.insert(
            "400".into(),
            problem_response("The body is not a JSON object or names unknown fields."),
        );
        denials(rule, &mut responses);
        responses.insert("404".into(), problem_response("No such object."));
        responses.insert("409".into(), problem_response("A unique value is taken."));
        responses.insert(
            "412".into(),
            problem_response("The object changed since it was read (If-Match)."),
        );
        responses.insert(
            "422".into(),
            problem_response("Invalid fields (`errors` lists each)."),
        );
        item.insert(method.into(), json!({
            "operationId": format!("{prefix}_{segment}"),
            "summary": format!("{} a {}", if method == "put" { "Replace" } else { "Change" }, r.meta.verbose_name),
            "tags": [tag],
            "parameters": [id.clone(), if_match.clone()],
            "security": security(rule),
            "requestBody": {"required": true, "content": json_content(reference(&format!("{name}{body}")))},
            "responses": responses,
        }));
    }
    if r.allows(Op::Delete) {
        let rule = r.rule(Op::Delete);
        let mut responses = Map::new();
        responses.insert("204".into(), json!({"description": "Deleted."}));
        denials(rule, &mut responses);
        responses.insert("404".into(), problem_response("No such object."));
        responses.insert(
            "409".into(),
            problem_response("Protected: other objects still refer to it."),
        );
        responses.insert(
            "412".into(),
            problem_response("The object changed since it was read (If-Match)."),
        );
        item.insert(
            "delete".into(),
            json!({
                "operationId": format!("delete_{segment}"),
                "summary": format!("Delete a {}", r.meta.verbose_name),
                "tags": [tag],
                "parameters": [id, if_match],
                "security": security(rule),
                "responses": responses,
            }),
        );
    }
    if !item.is_empty() {
        paths.insert(format!("{}/{{id}}", r.path), J::Object(item));
    }
}

/// The whole document.
pub(crate) fn document(state: &ApiState, info: &Info, cookie: &str, extra: Option<J>) -> J {
    let mut paths = Map::new();
    let mut schemas_out = Map::new();
    schemas_out.insert(
        "Problem".into(),
        json!({
            "type": "object",
            "description": "An RFC 9457 problem.",
            "properties": {
                "type": {"type": "string"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
                "instance": {"type": "string"},
                "errors": {
                    "type": "array",
                    "items": {"type": "object", "properties": {"field": {"type": "string"}, "message": {"type": "string"}}, "required": ["field", "message"]},
                },
            },
            "required": ["type", "title", "status"],
        }),
    );
    for r in &state.resources {
        schemas(state, r, &mut schemas_out);
        operations(state, r, &mut paths);
    }
    let mut info_json = json!({"title": info.title, "version": info.version});
    if let Some(d) = &info.description {
        info_json["description"] = J::from(d.clone());
    }
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": info_json,
        "paths": paths,
        "components": {
            "schemas": schemas_out,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT or a personal access token",
                    "description": "An access token from the auth battery's login (or an API token)."},
                "cookie": {"type": "apiKey", "in": "cookie", "name": cookie,
                    "description": "A browser session; unsafe methods also need the CSRF token header."},
            },
        },
        "x-reserved-query-parameters": RESERVED,
    });
    if let Some(extra) = extra {
        merge(&mut doc, extra);
    }
    doc
}

/// Merges the app's own document (paths, components) into the generated one.
fn merge(doc: &mut J, extra: J) {
    let J::Object(extra) = extra else { return };
    for (key, value) in extra {
        match (key.as_str(), value) {
            ("paths", J::Object(paths)) => {
                let target = doc["paths"].as_object_mut().expect("paths is an object");
                for (path, item) in paths {
                    match (target.get_mut(&path), item) {
                        (Some(J::Object(existing)), J::Object(item)) => existing.extend(item),
                        (_, item) => {
                            target.insert(path, item);
                        }
                    }
                }
            }
            ("components", J::Object(components)) => {
                for (kind, entries) in components {
                    if let J::Object(entries) = entries {
                        let slot = doc["components"]
                            .as_object_mut()
                            .expect("components is an object")
                            .entry(kind)
                            .or_insert_with(|| J::Object(Map::new()));
                        if let J::Object(slot) = slot {
                            slot.extend(entries);
                        }
                    }
                }
            }
            ("tags", J::Array(tags)) => {
                let slot = doc
                    .as_object_mut()
                    .expect("the document is an object")
                    .entry("tags")
                    .or_insert_with(|| J::Array(Vec::new()));
                if let J::Array(slot) = slot {
                    slot.extend(tags);
                }
            }
            _ => {}
        }
    }
}
