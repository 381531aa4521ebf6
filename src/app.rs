//! The HTML shell, `<App/>` and its routes.

use crate::{
    auth::{actions, state::AuthState},
    components::{guard::AuthRedirects, header::Header},
    pages::{
        home::HomePage, login::LoginPage, not_found::NotFound, sessions::SessionsPage,
        verify::VerifyPage,
    },
};
use leptos::prelude::*;
use leptos_router::{
    components::{Route, Router, Routes},
    path,
};

/// The document around the app (server rendering).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <link rel="stylesheet" id="leptos" href="/pkg/stay-signed-in.css" />
                <title>"stay-signed-in"</title>
                <AutoReload options=options.clone() />
                <HydrationScripts options />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The application: auth state, header, routes.
#[component]
pub fn App() -> impl IntoView {
    let auth = AuthState::new();
    provide_context(auth);
    // Effects run only in the browser, after hydration: tokens are read there.
    Effect::new(move |_| actions::start(auth));

    view! {
        <Router>
            <AuthRedirects />
            <Header />
            <main class="container" id="main">
                <Routes fallback=|| view! { <NotFound /> }>
                    <Route path=path!("/") view=HomePage />
                    <Route path=path!("/login") view=LoginPage />
                    <Route path=path!("/auth/verify") view=VerifyPage />
                    <Route path=path!("/sessions") view=SessionsPage />
                </Routes>
            </main>
        </Router>
    }
}
