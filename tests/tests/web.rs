//! The dashboard and the public catalogue as HTML from a real server with the demo data: the headline
//! figures match the API's, search ignores diacritics, a procedure's history reads in plain Vietnamese,
//! and `?lang=en` switches the labels.

use p30_tests::TestServer;
use serde_json::Value;

async fn html(url: String) -> String {
    let r = reqwest::get(url).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    r.text().await.unwrap()
}

#[tokio::test]
async fn the_dashboard_headline_matches_the_api_in_vietnamese_numbers() {
    let server = TestServer::start_with(|c| server::Config { demo: true, ..c }).await;
    let base = server.base.clone();
    let page = html(format!("{base}/?as_of=2015-12-31")).await;
    assert!(page.starts_with("<!doctype html><html lang=\"vi\">"));
    let api: Value =
        reqwest::get(format!("{base}/v1/programmes/de-an-30?as_of=2015-12-31")).await.unwrap().json().await.unwrap();
    let cost = api["figures"]["cost_reduction"].as_f64().unwrap();
    let shown = format!("data-figure=\"cost_reduction\">{}", server::web::words::percent(cost));
    assert!(page.contains(&shown), "{shown} not in the page");
    let missing = api["missing_vnd"].as_u64().unwrap();
    assert!(page.contains(&server::web::words::vnd(missing.into())), "missing VND shown the Vietnamese way");
    assert!(page.contains("Giảm chi phí") && page.contains("<svg"), "Vietnamese labels and a chart");
    assert!(page.contains("/catalogue?agency="), "group rows link to their procedures");
    assert!(page.contains("Thời hạn giải quyết bình quân"), "a chart of average days beside the cost chart");
    // The latest changes tell a merge once, though it is one event in each stream it touched.
    let changes = page.split("<ul class=\"changes\">").nth(1).unwrap().split("</ul>").next().unwrap();
    let items: Vec<&str> = changes.split("<li>").skip(1).collect();
    assert!(items.len() >= 5 && items.iter().filter(|i| i.contains("hợp nhất với")).count() >= 2, "{changes}");
    let mut told: Vec<&str> = items.iter().filter_map(|i| i.split("href=\"").nth(1)?.split('"').next()).collect();
    let all = told.len();
    told.sort();
    told.dedup();
    assert_eq!(told.len(), all, "each change once: {changes}");
    let english = html(format!("{base}/?lang=en")).await;
    assert!(english.contains("<html lang=\"en\">") && english.contains("Cost reduction"));
    server.stop().await;
}

#[tokio::test]
async fn the_catalogue_finds_without_diacritics_and_tells_the_history_in_plain_words() {
    let server = TestServer::start_with(|c| server::Config { demo: true, ..c }).await;
    let base = server.base.clone();
    let found = html(format!("{base}/catalogue?q=dang%20ky%20khai%20sinh")).await;
    assert!(found.contains("Đăng ký khai sinh"), "search ignores diacritics");
    let entry = html(format!("{base}/catalogue/1.000001")).await;
    assert!(entry.contains("01/07/2011"), "dates the Vietnamese way");
    assert!(entry.contains("thời hạn giải quyết rút ngắn từ 20 xuống 12 ngày làm việc"), "history in plain words");
    let merged = html(format!("{base}/catalogue/3.000003")).await;
    assert!(merged.contains("hợp nhất vào") && merged.contains("/catalogue/3.000010"), "what replaced it");
    let missing = reqwest::get(format!("{base}/catalogue/9.999999")).await.unwrap();
    assert_eq!(missing.status(), 404);
    server.stop().await;
}
