//! Models defined at runtime — metadata only, no Rust type — through the untyped layer:
//! `Record` CRUD, `Query` with parsed filters, joins, aggregates, pages and bulk writes, and
//! many-to-many links, on SQLite and Postgres.

use std::sync::Arc;

use turbine_orm::crud::Record;
use turbine_orm::meta::{FieldMeta, FieldType, ModelMeta, ModelRegistry, OnDelete, Registry};
use turbine_orm::query::{AggFunc, Aggregate, Expr, Filter, M2mLink, OrderBy, Query};
use turbine_orm::testing::TestDb;
use turbine_orm::{Error, Value};

fn registry() -> Arc<Registry> {
    let category = ModelMeta::new("shop", "Category")
        .field(FieldMeta::auto_id())
        .field(FieldMeta::new("name", FieldType::String { max_length: 40 }).unique());
    let product = ModelMeta::new("shop", "Product")
        .field(FieldMeta::auto_id())
        .field(FieldMeta::new("name", FieldType::String { max_length: 80 }))
        .field(FieldMeta::new("stock", FieldType::I32).default_value(0))
        .field(FieldMeta::foreign_key(
            "category",
            "shop.Category",
            OnDelete::Protect,
        ))
        .field(FieldMeta::many_to_many("similar", "shop.Product"));
    let mut r = ModelRegistry::new();
    r.register(category).unwrap();
    r.register(product).unwrap();
    Arc::new(r.finish().unwrap())
}

#[tokio::test]
async fn runtime_models_have_the_whole_data_path() {
    let registry = registry();
    for db in TestDb::all_with(registry.models()).await.unwrap() {
        db.set_registry(registry.clone()).unwrap();
        let category = registry.get("shop.Category").unwrap();
        let product = registry.get("shop.Product").unwrap();

        let mut tools = Record::new(category);
        tools.set("name", "tools").unwrap();
        tools.insert(&db).await.unwrap();
        let tools_id = tools.key().unwrap().clone();
        let mut products = Vec::new();
        for (name, stock) in [("hammer", 3), ("saw", 0), ("drill", 7)] {
            let body = serde_json::json!({"name": name, "stock": stock, "category": 1});
            let mut p = Record::from_json(product, body.as_object().unwrap()).unwrap();
            p.insert(&db).await.unwrap();
            products.push(p);
        }
        let name = db.name().to_string();

        // Filters parsed by field name, ordering by name, a join named `<field>__<column>`.
        let q = Query::new(product)
            .filter(Filter::parse_lookup_in(&registry, product, "category__name", "tools").unwrap())
            .filter(Filter::parse_lookup(product, "stock__gt", "0").unwrap())
            .order_by([OrderBy::parse_for(product, "-stock").unwrap()])
            .select_related_in(&registry, "category")
            .unwrap();
        let rows = q.fetch(&db).await.unwrap();
        let names: Vec<String> = rows.iter().map(|r| r.decode("name").unwrap()).collect();
        assert_eq!(names, ["drill", "hammer"], "{name}");
        assert_eq!(rows[0].decode::<String>("category__name").unwrap(), "tools");
        let drill = Record::from_row(product, &rows[0]).unwrap();
        assert_eq!(drill.get("stock"), Some(&Value::Int(Some(7))));

        // Aggregates, pages, bulk update, count.
        let stock = Aggregate::new(AggFunc::Sum, Some("stock"));
        let row = Query::new(product).aggregate(&db, &[stock]).await.unwrap();
        assert_eq!(row.decode::<i64>("stock__sum").unwrap(), 10);
        let page = Query::new(product)
            .order_by([OrderBy::asc("name")])
            .page(&db, 2, None)
            .await
            .unwrap();
        assert_eq!(page.items.len(), 2);
        assert!(page.next_cursor.is_some());
        let changed = Query::new(product)
            .filter(Filter::eq("stock", 0))
            .update()
            .set("stock", Expr::field("stock").add(5))
            .execute(&db)
            .await
            .unwrap();
        assert_eq!(changed, 1);
        assert_eq!(
            Query::new(product)
                .filter(Filter::parse_lookup(product, "stock__gte", "5").unwrap())
                .count(&db)
                .await
                .unwrap(),
            2
        );

        // Many-to-many through the automatic join model, self-referencing.
        let link = M2mLink::resolve(&db, product, "similar").unwrap();
        let keys: Vec<Value> = products.iter().map(|p| p.key().unwrap().clone()).collect();
        link.add(&db, keys[0].clone(), keys[1..].to_vec())
            .await
            .unwrap();
        let similar = Query::new(product)
            .filter(link.targets_filter(product, keys[0].clone()).unwrap())
            .count(&db)
            .await
            .unwrap();
        assert_eq!(similar, 2);

        // Protect: the category cannot go while products point at it.
        match tools.delete(&db).await {
            Err(Error::Protected { model, by }) => {
                assert_eq!(
                    (model.as_str(), by),
                    ("shop.Category", vec!["shop.Product.category".to_string()])
                )
            }
            other => panic!("{name}: {other:?}"),
        }
        assert_eq!(Query::new(product).delete(&db).await.unwrap(), 3);
        tools.delete(&db).await.unwrap();
        assert!(matches!(
            Record::fetch(&db, category, tools_id).await,
            Err(Error::NotFound { .. })
        ));
        db.close().await;
    }
}
