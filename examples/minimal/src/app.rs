use crate::account::Account;
use leptos::prelude::*;
use leptos_router::{
    components::{Route, Router, Routes},
    path, StaticSegment,
};
use stay_signed_in_auth::{provide_auth_named, FinishSignIn};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone() />
                <HydrationScripts options/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    // The sign-in state, and the browser client that keeps the tokens fresh (kept in
    // the browser under this app's name).
    provide_auth_named("minimal");

    view! {
        <Router>
            <main>
                <Routes fallback=|| "Page not found.".into_view()>
                    <Route path=StaticSegment("") view=HomePage/>
                    // The page the emailed sign-in link opens.
                    <Route path=path!("/auth/verify") view=|| view! { <FinishSignIn/> }/>
                </Routes>
            </main>
        </Router>
    }
}

/// Renders the home page of your application.
#[component]
fn HomePage() -> impl IntoView {
    view! {
        <h1>"Welcome to Leptos!"</h1>
        <Account/>
    }
}
