//! A staging run touches nothing but its targets: a target's page that links other
//! hosts (by name, `localhost`, an address) causes no request to them. And what the
//! browser holds for a target is read from the target's own origin.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sessiondrill::browser::Browsers;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

/// The tests here each start and shut down the process's chromedriver: one at a time.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A "third party" that counts the connections it gets.
async fn third_party() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = [0u8; 2048];
                let _ = s.read(&mut buf).await;
                let _ = s
                    .write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
                    .await;
            });
        }
    });
    (port, hits)
}

/// The target: one page linking the third party four ways.
async fn target(third: u16) -> u16 {
    let page = format!(
        "<!DOCTYPE html><html><body><p id=own>target page</p>\
         <img src=\"http://localhost:{third}/a.png\">\
         <img src=\"http://127.0.0.1:{third}/b.png\">\
         <img src=\"http://tracker.example:{third}/c.png\">\
         <script src=\"http://cdn.example:{third}/d.js\"></script>\
         </body></html>"
    );
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(move || async move { axum::response::Html(page) }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    port
}

async fn load(browsers: &Browsers, port: u16) {
    let b = browsers.session(false).await.expect("a browser session");
    let url = url::Url::parse(&format!("http://site.test:{port}/")).expect("url");
    b.goto(&url).await.expect("the target's page loads");
    let own = b
        .exec("return document.getElementById('own') !== null", vec![])
        .await
        .expect("page readable");
    assert_eq!(own.as_bool(), Some(true), "the target's own page loaded");
    // Every image has settled (loaded or failed): no request is still on its way.
    b.poll_js(
        "return [...document.images].every(i => i.complete) ? 'done' : null",
        Duration::from_secs(10),
    )
    .await
    .expect("images settle");
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_targets_page_reaches_no_other_host() {
    let _one = ONE_AT_A_TIME.lock().await;
    let (third, hits) = third_party().await;
    let port = target(third).await;

    // Control: with the third party allowed, the page's links do reach it.
    let open = Browsers::new(None, 1);
    for h in ["localhost", "127.0.0.1", "tracker.example", "cdn.example"] {
        open.allow_host(h);
    }
    load(&open, port).await;
    open.shutdown();
    let reached = hits.swap(0, Ordering::SeqCst);
    assert!(
        reached > 0,
        "control: the links must reach the third party when allowed"
    );

    // As a run starts the browser: only the target resolves.
    let isolated = Browsers::new(None, 1);
    load(&isolated, port).await;
    isolated.shutdown();
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "the browser contacted a host that is not a target"
    );
}

/// A sign-out that ends on another origin must not make the application's web storage
/// look empty: `observe_app` reads the application's origin, wherever the page is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_applications_storage_is_read_after_the_page_leaves_its_origin() {
    let _one = ONE_AT_A_TIME.lock().await;
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(|| async {
            // The application's own script would empty the storage: it must not run
            // when the suite comes back to read it.
            axum::response::Html(
                "<!DOCTYPE html><html><body><p id=own>page</p>\
                 <script>if (localStorage.getItem('token')) localStorage.clear();</script></body></html>",
            )
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let browsers = Browsers::new(None, 1);
    let b = browsers.session(false).await.expect("a browser session");
    let home = url::Url::parse(&format!("http://app.test:{port}/")).expect("url");
    let elsewhere = url::Url::parse(&format!("http://idp.test:{port}/")).expect("url");
    b.goto(&home).await.expect("the application's page loads");
    b.plant_storage("token", "kept-after-sign-out")
        .await
        .expect("write localStorage");
    b.goto(&elsewhere).await.expect("another origin loads");
    let here = b.observe().await.expect("observe");
    assert!(
        here.local_storage.is_empty(),
        "control: the other origin's storage is empty"
    );
    let obs = b.observe_app(&home).await.expect("observe the application");
    assert_eq!(
        obs.local_storage
            .get("token")
            .map(|s| s.expose().to_string()),
        Some("kept-after-sign-out".to_string()),
        "the application's storage, read from another origin"
    );
    b.close().await;
    browsers.shutdown();
}
