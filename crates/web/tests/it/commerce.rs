//! Products and price books, an opportunity's products, quotes and orders: through the API and
//! the pages, with their refusals, visibility and audit.

use axum::http::StatusCode;
use rust_decimal::Decimal;
use serde_json::json;

use crate::{ADMIN, HEAD, REP, TestApp, both};

fn dec(v: &serde_json::Value) -> Decimal {
    v.as_str().unwrap_or_else(|| panic!("decimal text, got {v}")).parse().unwrap()
}

/// The rep's first open opportunity in a stage of "New business".
async fn rep_deal(t: &TestApp, stage: &str) -> serde_json::Value {
    let rep = t.session(REP).await;
    let list = t.get("/api/v1/opportunities?status=open&limit=500", &rep).await.json();
    list["items"].as_array().unwrap().iter().find(|o| o["stage_name"] == stage).cloned().expect("an open deal")
}

async fn stage_id(t: &TestApp, name: &str) -> i64 {
    let rep = t.session(REP).await;
    let pipelines = t.get("/api/v1/pipelines", &rep).await.json();
    pipelines
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["stages"].as_array().unwrap().clone())
        .find(|s| s["name"] == name)
        .unwrap()["id"]
        .as_i64()
        .unwrap()
}

/// (product id, unit price in `currency`) of a product code.
async fn product(t: &TestApp, code: &str, currency: &str) -> (i64, Decimal) {
    let rep = t.session(REP).await;
    let cat = t.get("/api/v1/products", &rep).await.json();
    let p = cat["products"].as_array().unwrap().iter().find(|p| p["code"] == code).unwrap().clone();
    let price =
        p["prices"].as_array().unwrap().iter().find(|x| x["currency"] == currency).unwrap()["unit_price"].clone();
    (p["id"].as_i64().unwrap(), dec(&price))
}

both!(a_deal_is_priced_quoted_won_ordered_and_installed, |t| {
    let rep = t.session(REP).await;
    let deal = rep_deal(&t, "Negotiation").await;
    let id = deal["id"].as_i64().unwrap();
    let currency = deal["amount"]["currency"].as_str().unwrap().to_string();
    let (core, core_price) = product(&t, "SW-CORE", &currency).await;
    let (implementation, impl_price) = product(&t, "SV-IMPL", &currency).await;

    // 12 seats at list price, 3 implementation days at 10% off: the amount is their sum.
    let lines = json!([
        {"product_id": core, "quantity": "12"},
        {"product_id": implementation, "quantity": "3", "discount_percent": "10"},
    ]);
    let r = t.send("PUT", &format!("/api/v1/opportunities/{id}/lines"), &rep, Some(lines)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let expected = (Decimal::from(12) * core_price + Decimal::from(3) * impl_price * Decimal::new(9, 1)).round_dp(2);
    assert_eq!(dec(&r.json()["amount"]["amount"]), expected);
    let opp = t.get(&format!("/api/v1/opportunities/{id}"), &rep).await.json();
    assert_eq!(dec(&opp["amount"]["amount"]), expected, "the opportunity's amount follows its products");

    // Bad lines are refused with the line and field named, and change nothing.
    for (bad, field) in [
        (json!([{"product_id": core, "quantity": "0"}]), "lines[0].quantity"),
        (
            json!([{"product_id": core, "quantity": "1"}, {"product_id": 999_999, "quantity": "1"}]),
            "lines[1].product_id",
        ),
        (json!([{"product_id": core, "quantity": "1", "discount_percent": "120"}]), "lines[0].discount_percent"),
        (json!([{"product_id": core, "quantity": "lots"}]), "lines[0].quantity"),
    ] {
        let r = t.send("PUT", &format!("/api/v1/opportunities/{id}/lines"), &rep, Some(bad)).await;
        assert_eq!(
            (r.status, r.json()["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{}",
            r.body
        );
    }
    let lines_now = t.get(&format!("/api/v1/opportunities/{id}/lines"), &rep).await.json();
    assert_eq!(lines_now.as_array().unwrap().len(), 2, "refused changes wrote nothing");

    // A quote freezes the lines; it must be sent before the customer can accept it.
    let r = t.send("POST", &format!("/api/v1/opportunities/{id}/quotes"), &rep, Some(json!({}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let quote = r.json();
    let qid = quote["id"].as_i64().unwrap();
    assert!(quote["number"].as_str().unwrap().starts_with("Q-"));
    assert_eq!((quote["status"].as_str(), quote["lines"].as_array().unwrap().len()), (Some("draft"), 2));
    let r = t.send("POST", &format!("/api/v1/quotes/{qid}/status"), &rep, Some(json!({"status": "accepted"}))).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::CONFLICT, "refused"), "{}", r.body);
    t.advance(jiff::SignedDuration::from_hours(3));
    let r = t.send("POST", &format!("/api/v1/quotes/{qid}/status"), &rep, Some(json!({"status": "sent"}))).await;
    assert_eq!(r.json()["sent_at"], "2026-06-15T13:00:00Z", "{}", r.body);
    t.advance(jiff::SignedDuration::from_hours(5));
    let r = t.send("POST", &format!("/api/v1/quotes/{qid}/status"), &rep, Some(json!({"status": "accepted"}))).await;
    let answered = (r.json()["status"].clone(), r.json()["answered_at"].clone());
    assert_eq!(answered, (json!("accepted"), json!("2026-06-15T18:00:00Z")), "{}", r.body);

    // Only a won deal becomes an order; a won deal's products are frozen.
    let r = t.send("POST", &format!("/api/v1/opportunities/{id}/order"), &rep, Some(json!({}))).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::CONFLICT, "refused"), "{}", r.body);
    let won = stage_id(&t, "Closed won").await;
    let r = t.send("POST", &format!("/api/v1/opportunities/{id}/move"), &rep, Some(json!({"stage_id": won}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = t.send("PUT", &format!("/api/v1/opportunities/{id}/lines"), &rep, Some(json!([]))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let r = t.send("POST", &format!("/api/v1/opportunities/{id}/order"), &rep, Some(json!({"quote_id": qid}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let order = r.json();
    let oid = order["id"].as_i64().unwrap();
    assert_eq!((order["status"].as_str(), dec(&order["amount"]["amount"])), (Some("pending"), expected));
    assert_eq!(order["ordered_on"], "2026-06-15");
    let r = t.send("POST", &format!("/api/v1/opportunities/{id}/order"), &rep, Some(json!({}))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "one order per opportunity: {}", r.body);

    // Planned, a visit fails, planned again, installed: not first time right.
    let step = |body: serde_json::Value| {
        let (t, rep) = (&t, &rep);
        async move { t.send("POST", &format!("/api/v1/orders/{oid}/steps"), rep, Some(body)).await }
    };
    let r = step(json!({"action": "schedule", "date": "2026-06-01"})).await;
    assert_eq!(r.json()["field"], "date", "not before the order date: {}", r.body);
    assert_eq!(step(json!({"action": "schedule", "date": "2026-06-20"})).await.json()["status"], "scheduled");
    let r = step(json!({"action": "failed", "reason": "Roof not accessible"})).await;
    assert_eq!((r.json()["status"].as_str(), r.json()["failed_installations"].as_i64()), (Some("pending"), Some(1)));
    let r = step(json!({"action": "installed", "date": "2026-07-01"})).await;
    assert_eq!(r.json()["field"], "date", "not in the future: {}", r.body);
    t.advance(jiff::SignedDuration::from_hours(24 * 11));
    let rep = t.session(REP).await;
    let step = |body: serde_json::Value| {
        let (t, rep) = (&t, &rep);
        async move { t.send("POST", &format!("/api/v1/orders/{oid}/steps"), rep, Some(body)).await }
    };
    step(json!({"action": "schedule", "date": "2026-06-26"})).await;
    let r = step(json!({"action": "installed", "date": "2026-06-26"})).await;
    let done = r.json();
    assert_eq!((done["status"].as_str(), done["installation_date"].as_str()), (Some("installed"), Some("2026-06-26")));
    let kinds: Vec<&str> = done["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["created", "scheduled", "installation_failed", "scheduled", "installed"]);
    let r = step(json!({"action": "cancel"})).await;
    assert_eq!(r.json()["field"], "reason", "{}", r.body);

    // Every change is in the audit log.
    let head = t.session(HEAD).await;
    for (entity, n) in [("order", 5), ("quote", 3)] {
        let log = t.get(&format!("/api/v1/audit?entity={entity}&limit=50"), &head).await.json();
        assert_eq!(log["total"].as_i64(), Some(n), "{entity}: {log}");
    }
});

both!(reps_see_only_their_own_quotes_and_orders, |t| {
    let rep = t.session(REP).await;
    let head = t.session(HEAD).await;
    let me = t.user_id(REP).await;
    for list in ["/api/v1/orders?limit=500", "/api/v1/quotes?limit=500"] {
        let mine = t.get(list, &rep).await.json();
        let items = mine["items"].as_array().unwrap();
        assert!(items.iter().all(|o| o["owner_id"] == me), "{list} holds only the rep's own");
        let all = t.get(list, &head).await.json();
        assert!(all["total"].as_i64().unwrap() > mine["total"].as_i64().unwrap());
    }
    let all = t.get("/api/v1/orders?limit=500", &head).await.json();
    let other = all["items"].as_array().unwrap().iter().find(|o| o["owner_id"] != me).unwrap()["id"].as_i64().unwrap();
    assert_eq!(t.get(&format!("/api/v1/orders/{other}"), &rep).await.status, StatusCode::NOT_FOUND);
    assert_eq!(t.get(&format!("/orders/{other}"), &rep).await.status, StatusCode::NOT_FOUND);
    let r = t
        .send("POST", &format!("/api/v1/orders/{other}/steps"), &rep, Some(json!({"action": "cancel", "reason": "x"})))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let csv = t.get("/api/v1/orders?format=csv", &rep).await;
    assert_eq!(csv.status, StatusCode::OK);
    let rows = csv.body.lines().count() - 1;
    let total = t.get("/api/v1/orders?count=exact", &rep).await.json()["total"].as_i64().unwrap();
    assert_eq!(rows as i64, total);
    let json = t.get("/api/v1/orders?format=json_export", &rep).await.json();
    assert_eq!(json.as_array().unwrap().len() as i64, total, "the JSON export holds the whole list");
});

both!(administrators_keep_the_catalogue_and_its_prices, |t| {
    let rep = t.session(REP).await;
    let admin = t.session(ADMIN).await;
    let product = json!({"code": "HW-BAT", "name": "Battery pack", "family": "Hardware", "unit": "piece"});
    let r = t.send("POST", "/api/v1/products", &rep, Some(product.clone())).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = t.send("POST", "/api/v1/products", &admin, Some(product.clone())).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.json()["id"].as_i64().unwrap();
    let r = t.send("POST", "/api/v1/products", &admin, Some(product)).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "codes are unique: {}", r.body);

    let cat = t.get("/api/v1/products", &admin).await.json();
    let eur =
        cat["price_books"].as_array().unwrap().iter().find(|b| b["currency"] == "EUR").unwrap()["id"].as_i64().unwrap();
    let r = t
        .send(
            "PUT",
            &format!("/api/v1/price-books/{eur}/prices"),
            &admin,
            Some(json!([{"product_id": id, "unit_price": "-5"}])),
        )
        .await;
    assert_eq!(
        (r.status, r.json()["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("prices[0].unit_price"))
    );
    let r = t
        .send(
            "PUT",
            &format!("/api/v1/price-books/{eur}/prices"),
            &admin,
            Some(json!([{"product_id": id, "unit_price": "1499.00"}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);

    // A new price book in a currency without one; the currency is fixed.
    let r = t.send("POST", "/api/v1/price-books", &admin, Some(json!({"name": "Standard", "currency": "SEK"}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = t.send("POST", "/api/v1/price-books", &admin, Some(json!({"name": "Standard", "currency": "EURO"}))).await;
    assert_eq!((r.status, r.json()["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("currency")));

    // Products without a price in the deal's currency need a typed price.
    let deal = rep_deal(&t, "Negotiation").await;
    let did = deal["id"].as_i64().unwrap();
    let lines = json!([{"product_id": id, "quantity": "2"}]);
    let r = t.send("PUT", &format!("/api/v1/opportunities/{did}/lines"), &rep, Some(lines)).await;
    if deal["amount"]["currency"] == "EUR" {
        assert_eq!(dec(&r.json()["amount"]["amount"]), Decimal::new(299_800, 2), "{}", r.body);
    } else {
        assert_eq!(r.json()["field"], "lines[0].unit_price", "{}", r.body);
    }
    // Stopping to sell a product keeps it on deals that have it but refuses it on new ones.
    let r = t.send("PUT", &format!("/api/v1/products/{id}"), &admin,
        Some(json!({"code": "HW-BAT", "name": "Battery pack", "family": "Hardware", "unit": "piece", "active": false}))).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let listed = t.get("/api/v1/products", &rep).await.json();
    assert!(!listed["products"].as_array().unwrap().iter().any(|p| p["code"] == "HW-BAT"));
});

both!(pages_price_quote_and_install_in_dutch, |t| {
    let rep = t.session(REP).await;
    let deal = rep_deal(&t, "Negotiation").await;
    let id = deal["id"].as_i64().unwrap();
    let currency = deal["amount"]["currency"].as_str().unwrap().to_string();
    let (core, price) = product(&t, "SW-CORE", &currency).await;

    let page = t.get(&format!("/opportunities/{id}"), &rep).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Producten") && page.body.contains("Offerte maken"), "Dutch panels");
    // The form replaces the lines: the demo's lines go, one new line with a typed comma decimal.
    let mut fields: Vec<(String, String)> = vec![];
    let existing = t.get(&format!("/api/v1/opportunities/{id}/lines"), &rep).await.json();
    for (i, l) in existing.as_array().unwrap().iter().enumerate() {
        fields.push((format!("product_{i}"), l["product_id"].to_string()));
        fields.push((format!("quantity_{i}"), "1".into()));
        fields.push((format!("remove_{i}"), "on".into()));
    }
    fields.push(("product_new".into(), core.to_string()));
    fields.push(("quantity_new".into(), "2,5".into()));
    let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = t.form(&format!("/opportunities/{id}/lines"), &rep, &f).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let opp = t.get(&format!("/api/v1/opportunities/{id}"), &rep).await.json();
    assert_eq!(dec(&opp["amount"]["amount"]), (price * Decimal::new(25, 1)).round_dp(2));

    // A refused form comes back with the reason on the page.
    let r = t
        .form(
            &format!("/opportunities/{id}/lines"),
            &rep,
            &[("product_new", &core.to_string()), ("quantity_new", "-1")],
        )
        .await;
    let back = r.headers["location"].to_str().unwrap().to_string();
    assert!(back.contains("error="), "{back}");
    let page = t.get(&back, &rep).await;
    assert!(page.body.contains("id=\"form-error\""), "the page shows the error");

    let r = t.form(&format!("/opportunities/{id}/quotes"), &rep, &[("valid_until", "2026-07-31")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let quotes = t.get(&format!("/api/v1/quotes?opportunity_id={id}"), &rep).await.json();
    let q = quotes["items"][0].clone();
    assert_eq!((q["status"].as_str(), q["valid_until"].as_str()), (Some("draft"), Some("2026-07-31")));
    let qid = q["id"].as_i64().unwrap();
    let back = format!("/opportunities/{id}");
    t.form(&format!("/quotes/{qid}/status"), &rep, &[("status", "sent"), ("back", &back)]).await;
    let list = t.get("/quotes?status=sent", &rep).await;
    assert!(list.body.contains(q["number"].as_str().unwrap()) && list.body.contains("verstuurd"), "{}", list.body);

    let orders = t.get("/orders", &rep).await;
    assert_eq!(orders.status, StatusCode::OK);
    assert!(orders.body.contains("Orders"));
    let products = t.get("/products", &rep).await;
    assert!(
        products.body.contains("SW-CORE") && !products.body.contains("id=\"product-form\""),
        "reps read the catalogue"
    );
});
