//! Browser tests: a real server on 127.0.0.1 and Debian's Chromium driven through chromedriver
//! (WebDriver). Two roles sign in and see different things; screenshots of key pages are saved
//! under `target/screenshots/` for review.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use thirtyfour::prelude::*;

use crate::{HEAD, Kind, PASSWORD, REP, spawn_app};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

struct Driver(Child);

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
async fn wait_for(d: &WebDriver, by: By) -> WebElement {
    d.query(by)
        .wait(std::time::Duration::from_secs(15), std::time::Duration::from_millis(50))
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
async fn start_driver() -> Option<(Driver, u16)> {
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

async fn browser(driver_port: u16, width: u32, height: u32) -> WebDriver {
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

async fn sign_in(d: &WebDriver, base: &str, email: &str) {
    d.goto(format!("{base}/login")).await.unwrap();
    wait_for(d, By::Id("email")).await.send_keys(email).await.unwrap();
    d.find(By::Id("password")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    d.find(By::Id("sign-in")).await.unwrap().click().await.unwrap();
    wait_for(d, By::Id("me-name")).await;
}

async fn shot(d: &WebDriver, name: &str) {
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
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = t.router.clone().into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

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
