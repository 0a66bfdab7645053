//! Browser tests: a real server on 127.0.0.1 and Debian's Chromium driven through chromedriver
//! (WebDriver). Two roles sign in and see different things; screenshots of key pages are saved
//! under `target/screenshots/` for review.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use thirtyfour::components::SelectElement;
use thirtyfour::prelude::*;

use crate::{ADMIN, HEAD, Kind, PASSWORD, REP, spawn_app};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

pub(crate) struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        // chromedriver runs in its own process group; ending the group also ends any Chromium
        // it started, even when a failed test never reached `quit`.
        let _ = Command::new("kill").arg("-9").arg("--").arg(format!("-{}", self.0.id())).status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits for an element to appear (after a navigation or a form submit).
pub(crate) async fn wait_for(d: &WebDriver, by: By) -> WebElement {
    wait_for_secs(d, by, 15).await
}

/// [`wait_for`] with a longer limit, for pages that compute before they answer.
pub(crate) async fn wait_for_secs(d: &WebDriver, by: By, seconds: u64) -> WebElement {
    d.query(by)
        .wait(std::time::Duration::from_secs(seconds), std::time::Duration::from_millis(50))
        .first()
        .await
        .expect("element appears")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Starts chromedriver, or None when the browser is not installed (CI installs it and sets
/// SALESOPS_TEST_BROWSER_REQUIRED so the tests cannot be skipped there).
pub(crate) async fn start_driver() -> Option<(Driver, u16)> {
    if !std::path::Path::new(CHROMEDRIVER).exists() || !std::path::Path::new(CHROMIUM).exists() {
        assert!(
            std::env::var("SALESOPS_TEST_BROWSER_REQUIRED").is_err(),
            "chromium/chromedriver are required but missing"
        );
        eprintln!("skipping browser test: {CHROMEDRIVER} or {CHROMIUM} not installed");
        return None;
    }
    let port = free_port();
    use std::os::unix::process::CommandExt;
    let mut child = Command::new(CHROMEDRIVER)
        .process_group(0)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    // Wait until the driver accepts connections (readiness, not a timing assumption).
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return Some((Driver(child), port));
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("chromedriver did not start");
}

pub(crate) async fn browser(driver_port: u16, width: u32, height: u32) -> WebDriver {
    let profile = std::env::temp_dir().join(crate::unique("chromium_profile"));
    let mut caps = DesiredCapabilities::chrome();
    caps.set_binary(CHROMIUM).unwrap();
    for arg in [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
        &format!("--user-data-dir={}", profile.display()),
        &format!("--window-size={width},{height}"),
    ] {
        caps.add_arg(arg).unwrap();
    }
    WebDriver::new(format!("http://127.0.0.1:{driver_port}"), caps).await.expect("browser session")
}

/// Serves the test app's router on a free local port; returns its base URL.
pub(crate) async fn serve(t: &crate::TestApp) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = t.router.clone().into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    base
}

pub(crate) async fn sign_in(d: &WebDriver, base: &str, email: &str) {
    d.goto(format!("{base}/login")).await.unwrap();
    wait_for(d, By::Id("email")).await.send_keys(email).await.unwrap();
    d.find(By::Id("password")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    d.find(By::Id("sign-in")).await.unwrap().click().await.unwrap();
    wait_for(d, By::Id("me-name")).await;
}

pub(crate) async fn shot(d: &WebDriver, name: &str) {
    d.screenshot(&screenshots().join(format!("{name}.png"))).await.unwrap();
}

async fn cells(d: &WebDriver, table: &str, column: usize) -> Vec<String> {
    let mut out = vec![];
    for row in d.find_all(By::Css(format!("#{table} tbody tr"))).await.unwrap() {
        let tds = row.find_all(By::Tag("td")).await.unwrap();
        out.push(tds[column].text().await.unwrap());
    }
    out
}

#[tokio::test]
async fn two_roles_in_a_real_browser() {
    let Some((_driver, driver_port)) = start_driver().await else { return };
    let t = spawn_app(Kind::Sqlite).await.unwrap();
    let base = serve(&t).await;

    // The head of commercial operations: English, the whole company, administration.
    let d = browser(driver_port, 1366, 900).await;
    d.goto(format!("{base}/login")).await.unwrap();
    shot(&d, "01-login").await;
    wait_for(&d, By::Id("email")).await.send_keys(HEAD).await.unwrap();
    d.find(By::Id("password")).await.unwrap().send_keys("wrong password").await.unwrap();
    d.find(By::Id("sign-in")).await.unwrap().click().await.unwrap();
    let err = wait_for(&d, By::Id("login-error")).await.text().await.unwrap();
    assert_eq!(err, "Invalid e-mail or password.");
    sign_in(&d, &base, HEAD).await;
    shot(&d, "02-home-head").await;
    assert!(d.find(By::Css("a[href='/admin/users']")).await.is_ok(), "admin navigation");
    d.goto(format!("{base}/opportunities")).await.unwrap();
    wait_for(&d, By::Css("#opportunities tbody tr")).await;
    let owners: std::collections::BTreeSet<String> = cells(&d, "opportunities", 2).await.into_iter().collect();
    assert!(owners.len() > 3, "the head sees many owners: {owners:?}");
    shot(&d, "03-opportunities-head").await;
    d.goto(format!("{base}/admin/users")).await.unwrap();
    wait_for(&d, By::Css("#users tbody tr")).await;
    shot(&d, "04-admin-users").await;
    d.goto(format!("{base}/admin/audit")).await.unwrap();
    wait_for(&d, By::Css("#audit tbody tr")).await;
    shot(&d, "05-audit-log").await;
    d.goto(format!("{base}/settings")).await.unwrap();
    wait_for(&d, By::Id("token-name")).await.send_keys("Browser token").await.unwrap();
    d.find(By::Id("create-token")).await.unwrap().click().await.unwrap();
    let secret = wait_for(&d, By::Id("token-secret")).await.text().await.unwrap();
    assert!(secret.starts_with("so_"));
    shot(&d, "06-settings-token").await;
    d.quit().await.unwrap();

    // A sales rep (Benelux, so Dutch): only their own opportunities, no administration.
    let d = browser(driver_port, 1366, 900).await;
    sign_in(&d, &base, REP).await;
    let lang = d.find(By::Tag("html")).await.unwrap().attr("lang").await.unwrap();
    assert_eq!(lang.as_deref(), Some("nl"));
    shot(&d, "07-home-rep-nl").await;
    assert!(d.find(By::Css("a[href='/admin/users']")).await.is_err(), "no admin navigation for a rep");
    let me = d.find(By::Id("me-name")).await.unwrap().text().await.unwrap();
    d.goto(format!("{base}/opportunities")).await.unwrap();
    wait_for(&d, By::Css("#opportunities tbody tr")).await;
    let owners: std::collections::BTreeSet<String> = cells(&d, "opportunities", 2).await.into_iter().collect();
    assert_eq!(owners, std::collections::BTreeSet::from([me.clone()]), "a rep sees only own opportunities");
    shot(&d, "08-opportunities-rep").await;
    // A guessed id of someone else's record.
    let head = t.session(HEAD).await;
    let rep_id = t.user_id(REP).await;
    let other = t.get(&format!("/api/v1/opportunities?limit=1&owner_id={}", rep_id + 1), &head).await.json()["items"]
        [0]["id"]
        .clone();
    d.goto(format!("{base}/opportunities/{other}")).await.unwrap();
    wait_for(&d, By::Id("error-message")).await;
    assert!(d.find(By::Id("record-title")).await.is_err());
    d.goto(format!("{base}/admin/users")).await.unwrap();
    wait_for(&d, By::Id("error-message")).await;
    d.quit().await.unwrap();

    // The same rep on a phone.
    let d = browser(driver_port, 390, 844).await;
    sign_in(&d, &base, REP).await;
    shot(&d, "09-home-rep-phone").await;
    d.find(By::Css(".menu-toggle")).await.unwrap().click().await.unwrap();
    assert!(wait_for(&d, By::Css(".side.open nav")).await.is_displayed().await.unwrap());
    shot(&d, "10-menu-phone").await;
    d.quit().await.unwrap();
}

/// Clicks a submit button and waits until the browser has left the page (the response of the
/// POST, or the page a redirect leads to, replaced it), so that later waits cannot match
/// elements of the old page.
async fn submit(d: &WebDriver, button: By) {
    let old = d.find(By::Tag("html")).await.unwrap();
    d.find(button).await.unwrap().click().await.unwrap();
    old.wait_until()
        .wait(std::time::Duration::from_secs(15), std::time::Duration::from_millis(50))
        .stale()
        .await
        .expect("the form submit loads a new page");
}

/// The texts of the cells of every body row of a table.
async fn rows(d: &WebDriver, table: &str) -> Vec<Vec<String>> {
    let mut out = vec![];
    for row in d.find_all(By::Css(format!("#{table} tbody tr"))).await.unwrap() {
        let mut cells = vec![];
        for td in row.find_all(By::Tag("td")).await.unwrap() {
            cells.push(td.text().await.unwrap());
        }
        out.push(cells);
    }
    out
}

/// A directory for files the browser uploads, removed afterwards even when the test fails.
struct UploadDir(PathBuf);

impl UploadDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(crate::unique("salesops_upload"));
        std::fs::create_dir_all(&dir).unwrap();
        UploadDir(dir)
    }

    /// Writes a file and returns its absolute path, as the file input wants it.
    fn file(&self, name: &str, content: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, content).unwrap();
        path.display().to_string()
    }
}

impl Drop for UploadDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A Salesforce opportunities report, as a CRM administrator would export it.
const SALESFORCE_CSV: &str = "\
Id,Name,Account Name,Owner Email,StageName,Amount,CurrencyIsoCode,CloseDate,Probability (%),CreatedDate,Loss_Reason__c,LeadSource
0068d00000AbCdE,Kantoorinrichting 2026,Import Test B.V.,rep@demo.salesops.io,Proposal,12500.00,EUR,2026-03-31,60,2025-11-02T10:00:00Z,,Website
0068d00000AbCdF,Servicecontract,Import Test B.V.,rep@demo.salesops.io,Closed lost,800.00,EUR,2026-01-31,0,2025-10-02T10:00:00Z,Price,Referral
";

/// The id of one of the rep's open opportunities in `stage` (looked up through the API, as the
/// browser cannot).
async fn rep_open_opportunity_in(t: &crate::TestApp, stage: &str) -> i64 {
    let rep = t.session(REP).await;
    let list = t.get("/api/v1/opportunities?status=open&limit=500", &rep).await.json();
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["stage_name"] == stage)
        .and_then(|o| o["id"].as_i64())
        .unwrap_or_else(|| panic!("the demo rep has an open opportunity in {stage}"))
}

#[tokio::test]
async fn crm_import_and_pipeline_in_a_real_browser() {
    let Some((_driver, driver_port)) = start_driver().await else { return };
    let t = spawn_app(Kind::Sqlite).await.unwrap();
    let base = serve(&t).await;
    let uploads = UploadDir::new();

    // The CRM administrator brings in last year's deals from Salesforce. First a check of a
    // file with a day.month.year date: the problem is shown with its line, column and value.
    let d = browser(driver_port, 1366, 900).await;
    sign_in(&d, &base, ADMIN).await;
    d.goto(format!("{base}/import")).await.unwrap();
    let entity = SelectElement::new(&wait_for(&d, By::Id("entity")).await).await.unwrap();
    entity.select_by_value("opportunities").await.unwrap();
    let broken = uploads.file("salesforce-broken.csv", &SALESFORCE_CSV.replace("2026-01-31", "15.02.2026"));
    d.find(By::Id("file")).await.unwrap().send_keys(&broken).await.unwrap();
    submit(&d, By::Id("import-check")).await;
    wait_for(&d, By::Css("#import-problems tbody tr")).await;
    let summary = d.find(By::Id("import-summary")).await.unwrap().text().await.unwrap();
    assert!(summary.contains("Nothing was written"), "{summary}");
    let problems = rows(&d, "import-problems").await;
    // Columns: line, row, column, value, reason.
    let date = problems
        .iter()
        .find(|p| p[2] == "CloseDate")
        .unwrap_or_else(|| panic!("a CloseDate problem is listed: {problems:?}"));
    assert_eq!((date[0].as_str(), date[1].as_str(), date[3].as_str()), ("3", "2", "15.02.2026"), "{problems:?}");
    shot(&d, "import-problems").await;

    // The corrected file, creating the account that does not exist yet.
    let fixed = uploads.file("salesforce.csv", SALESFORCE_CSV);
    let entity = SelectElement::new(&d.find(By::Id("entity")).await.unwrap()).await.unwrap();
    entity.select_by_value("opportunities").await.unwrap();
    d.find(By::Id("file")).await.unwrap().send_keys(&fixed).await.unwrap();
    let create = d.find(By::Id("create_missing")).await.unwrap();
    if !create.is_selected().await.unwrap() {
        create.click().await.unwrap();
    }
    assert!(create.is_selected().await.unwrap());
    submit(&d, By::Id("import-apply")).await;
    let summary = wait_for(&d, By::Id("import-summary")).await.text().await.unwrap();
    assert_eq!(summary, "Imported: 2 new, 0 changed, 0 unchanged (rows read: 2). One account was created.");
    assert!(d.find(By::Id("import-problems")).await.is_err(), "no problems after a successful import");
    shot(&d, "import-done").await;
    d.goto(format!("{base}/opportunities?q=Kantoorinrichting")).await.unwrap();
    wait_for(&d, By::Css("#opportunities tbody tr")).await;
    let found = rows(&d, "opportunities").await;
    assert!(
        found.iter().any(|r| r[0] == "Kantoorinrichting 2026" && r[1] == "Import Test B.V."),
        "the imported deal is listed: {found:?}"
    );
    d.quit().await.unwrap();

    // The rep (Dutch interface) moves a qualified deal on; the exit criteria of Qualification
    // ask for a next step first.
    let id = rep_open_opportunity_in(&t, "Qualification").await;
    // A taller window, so that the screenshot shows the stage and its history together.
    let d = browser(driver_port, 1366, 1100).await;
    sign_in(&d, &base, REP).await;
    d.goto(format!("{base}/opportunities/{id}")).await.unwrap();
    assert_eq!(wait_for(&d, By::Id("current-stage")).await.text().await.unwrap(), "Qualification");
    let history_before = rows(&d, "stage-history").await.len();
    let stage = SelectElement::new(&d.find(By::Id("stage_id")).await.unwrap()).await.unwrap();
    stage.select_by_exact_text("Needs analysis").await.unwrap();
    d.find(By::Id("next_step")).await.unwrap().clear().await.unwrap();
    submit(&d, By::Id("move-submit")).await;
    let err = wait_for(&d, By::Id("form-error")).await.text().await.unwrap();
    assert_eq!(err, "Vul eerst in om verder te gaan: Volgende stap.", "the refusal names the field in Dutch");
    // The form keeps what the rep chose.
    let chosen = SelectElement::new(&d.find(By::Id("stage_id")).await.unwrap()).await.unwrap();
    assert_eq!(chosen.first_selected_option().await.unwrap().text().await.unwrap(), "Needs analysis");
    assert_eq!(d.find(By::Id("current-stage")).await.unwrap().text().await.unwrap(), "Qualification");
    shot(&d, "opportunity-move-refused").await;

    let stage = SelectElement::new(&d.find(By::Id("stage_id")).await.unwrap()).await.unwrap();
    stage.select_by_exact_text("Needs analysis").await.unwrap();
    let next = d.find(By::Id("next_step")).await.unwrap();
    next.clear().await.unwrap();
    next.send_keys("Demo plannen met de inkoper").await.unwrap();
    submit(&d, By::Id("move-submit")).await;
    assert_eq!(wait_for(&d, By::Id("current-stage")).await.text().await.unwrap(), "Needs analysis");
    assert!(d.find(By::Id("form-error")).await.is_err());
    assert_eq!(d.find(By::Id("next-step")).await.unwrap().text().await.unwrap(), "Demo plannen met de inkoper");
    let history = rows(&d, "stage-history").await;
    assert_eq!(history.len(), history_before + 1, "{history:?}");
    // Newest first: when, from, to, by.
    let me = d.find(By::Id("me-name")).await.unwrap().text().await.unwrap();
    assert_eq!(
        (history[0][1].as_str(), history[0][2].as_str(), history[0][3].as_str()),
        ("Qualification", "Needs analysis", me.as_str())
    );
    shot(&d, "opportunity-history").await;
    d.quit().await.unwrap();
}

#[tokio::test]
async fn products_quotes_and_orders_in_a_real_browser() {
    let Some((_driver, driver_port)) = start_driver().await else { return };
    let t = spawn_app(Kind::Sqlite).await.unwrap();
    let base = serve(&t).await;

    // The rep (Dutch) adds two training days to a deal in negotiation, then quotes and sends it.
    let id = rep_open_opportunity_in(&t, "Negotiation").await;
    let d = browser(driver_port, 1366, 1500).await;
    sign_in(&d, &base, REP).await;
    d.goto(format!("{base}/opportunities/{id}")).await.unwrap();
    let lines_before = rows(&d, "lines").await.len();
    let product = SelectElement::new(&wait_for(&d, By::Id("product_new")).await).await.unwrap();
    product.select_by_value("7").await.unwrap();
    let qty = d.find(By::Id("quantity_new")).await.unwrap();
    qty.clear().await.unwrap();
    qty.send_keys("2").await.unwrap();
    submit(&d, By::Id("lines-submit")).await;
    wait_for(&d, By::Id("lines-total")).await;
    let lines = rows(&d, "lines").await;
    assert_eq!(lines.len(), lines_before + 1, "{lines:?}");
    // The last saved line sits above the empty row for the next product.
    assert!(lines[lines.len() - 2][0].contains("SV-TRN"), "{lines:?}");
    submit(&d, By::Id("quote-create")).await;
    let quotes = rows(&d, "quote-list").await;
    assert_eq!(quotes[0][1], "concept", "{quotes:?}");
    submit(&d, By::Css("#quote-list button[id$='-sent']")).await;
    let quotes = rows(&d, "quote-list").await;
    assert_eq!(quotes[0][1], "verstuurd", "{quotes:?}");
    d.execute("document.getElementById('products').scrollIntoView()", vec![]).await.unwrap();
    shot(&d, "opportunity-products-quotes").await;
    d.quit().await.unwrap();

    // Operations follow the installations: the orders list, then one order planned.
    let d = browser(driver_port, 1366, 900).await;
    sign_in(&d, &base, HEAD).await;
    d.goto(format!("{base}/orders?status=pending")).await.unwrap();
    wait_for(&d, By::Css("#orders tbody tr a")).await.click().await.unwrap();
    wait_for(&d, By::Css("#schedule-form input[name=date]")).await;
    // Typing into a date field depends on the browser's locale; set the value instead.
    d.execute("document.querySelector('#schedule-form input[name=date]').value = '2026-07-01'", vec![]).await.unwrap();
    submit(&d, By::Css("#schedule-form button")).await;
    let status = wait_for(&d, By::Id("order-status")).await.text().await.unwrap();
    assert_eq!(status, "planned");
    shot(&d, "order-planned").await;
    d.goto(format!("{base}/orders")).await.unwrap();
    wait_for(&d, By::Css("#orders tbody tr")).await;
    shot(&d, "orders").await;
    d.goto(format!("{base}/products")).await.unwrap();
    wait_for(&d, By::Css("#products tbody tr")).await;
    shot(&d, "products").await;
    d.quit().await.unwrap();
}
