//! A staging run touches nothing but its targets: a target's page that links other
//! hosts (by name, `localhost`, an address) causes no request to them.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sessiondrill::browser::Browsers;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

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
