//! What a person on Safari does: sign in, keep working across several real access
//! lifetimes, reload, open a second tab, sign out in one tab; and what a copy of their
//! token record is worth in another WebKit (nothing: the session is bound to a key this
//! browser cannot export).

use crate::browser::{App, Browser, Driver, LIFETIME};
use std::time::{Duration, Instant};

fn unique_email() -> String {
    format!(
        "webkit-{}@example.com",
        stay_signed_in::auth::server::random_id()
    )
}

/// Lets `duration` of real time pass: the scenario's length (three lifetimes of use),
/// never a wait for something to happen; those are polled for.
async fn live(duration: Duration) {
    tokio::time::sleep(duration).await;
}

/// The app, a WebKit on a display of its own, and a person signed in through the page.
/// (The app and the driver stop when dropped.)
async fn signed_in() -> (App, Driver, Browser, String) {
    let app = App::start().await;
    let driver = Driver::start();
    let browser = driver.open(&app.address).await;
    let email = unique_email();
    browser.sign_in(&email).await;
    (app, driver, browser, email)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs WebKitWebDriver, xvfb and the site `cargo leptos build` makes: ./scripts/test runs it"]
async fn three_lifetimes_of_use_and_a_reload_keep_the_session_and_every_note() {
    let (_app, _driver, browser, email) = signed_in().await;
    let signed_in_with = browser.stored_tokens().await["refresh_token"].clone();

    // A reload in the middle of the session keeps it.
    live(LIFETIME / 2).await;
    browser.client.refresh().await.unwrap();
    browser.ready().await;
    browser.wait_signed_in_as(&email).await;

    // Three access lifetimes of use: a note every four seconds.
    let started = Instant::now();
    let mut written = Vec::new();
    while started.elapsed() < 3 * LIFETIME {
        let text = format!(
            "note {} at {} s",
            written.len(),
            started.elapsed().as_secs()
        );
        browser.add_note(&text).await;
        written.push(text);
        live(LIFETIME / 3).await;
    }

    browser.wait_signed_in_as(&email).await;
    let tokens = browser.stored_tokens().await;
    assert_ne!(
        tokens["refresh_token"], signed_in_with,
        "the pair was rotated"
    );
    // About one refresh per lifetime (a refresh is due a sixth before expiry), never a storm.
    let refreshes = browser.refreshes().await;
    assert!(
        (2..=5).contains(&refreshes),
        "{refreshes} refreshes over three lifetimes since the reload"
    );
    let on_server = browser.server_notes().await;
    for text in &written {
        assert!(
            on_server.contains(text),
            "{text:?} was saved: {on_server:?}"
        );
    }
    browser.client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs WebKitWebDriver, xvfb and the site `cargo leptos build` makes: ./scripts/test runs it"]
async fn a_second_tab_shares_the_session_and_signing_out_in_one_signs_out_both() {
    let (_app, _driver, browser, email) = signed_in().await;
    let first = browser.client.window().await.unwrap();

    let second = browser.client.new_window(true).await.unwrap().handle;
    browser
        .client
        .switch_to_window(second.clone())
        .await
        .unwrap();
    browser.goto("/").await;
    browser.ready().await;
    browser.wait_signed_in_as(&email).await;

    // Both tabs outlive an access token, each still working.
    live(LIFETIME + Duration::from_secs(2)).await;
    browser.add_note("from the second tab").await;
    browser
        .client
        .switch_to_window(first.clone())
        .await
        .unwrap();
    browser.wait_signed_in_as(&email).await;
    browser.add_note("from the first tab").await;

    // Sign out in the second tab: the first follows without being touched.
    browser.client.switch_to_window(second).await.unwrap();
    browser.click("[data-testid=sign-out]").await;
    browser.wait_signed_out().await;
    browser.client.switch_to_window(first).await.unwrap();
    browser.wait_signed_out().await;
    assert!(
        browser.stored_tokens().await.is_null(),
        "the first tab's storage is empty"
    );
    browser.client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs WebKitWebDriver, xvfb and the site `cargo leptos build` makes: ./scripts/test runs it"]
async fn a_copied_token_record_cannot_refresh_and_the_owner_goes_on() {
    let (app, _driver, owner, email) = signed_in().await;
    // The key the session is bound to cannot be taken out of this browser.
    let exported = owner.exported_key().await;
    assert_eq!(
        exported, "refused: extractable=false",
        "the stored private key"
    );

    // A copy of the record in another WebKit (a profile of its own), its access token
    // made due at once: the copy cannot refresh and signs itself out.
    let stolen = owner.stored_tokens().await;
    let elsewhere = Driver::start();
    let thief = elsewhere.open(&app.address).await;
    thief.goto("/login").await;
    thief.ready().await;
    thief
        .client
        .execute(
            "localStorage.setItem('stay-signed-in.tokens', JSON.stringify(
                 Object.assign(arguments[0], { access_expires_at: 0, received_at: 0 })));",
            vec![stolen],
        )
        .await
        .unwrap();
    thief.goto("/").await;
    thief
        .wait_for(
            "location.search.includes('reason=invalid')",
            "the copy signed out as invalid",
        )
        .await;
    assert!(
        thief.stored_tokens().await.is_null(),
        "the copy's storage is empty"
    );
    thief.client.close().await.unwrap();

    // The owner outlives the access token and keeps working, refreshing as before.
    let before = owner.stored_tokens().await["refresh_token"].clone();
    live(LIFETIME + Duration::from_secs(2)).await;
    owner.add_note("after the copy tried").await;
    owner.wait_signed_in_as(&email).await;
    assert_ne!(
        owner.stored_tokens().await["refresh_token"],
        before,
        "the owner refreshed"
    );
    assert!(owner
        .server_notes()
        .await
        .contains(&"after the copy tried".to_string()));
    owner.client.close().await.unwrap();
}
