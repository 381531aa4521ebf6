//! Everything the browser client keeps between calls, in one place: a [`ClientState`]
//! made once per page. Each part sits in a cell of its own, so the module that uses one
//! part never holds another module's.

use super::{
    names::{self, Names},
    refresh_policy::RefreshPolicy,
    stored_tokens::StoredTokens,
};
use crate::{state::AuthState, CallError};
use futures::channel::oneshot;
use leptos::prelude::TimeoutHandle;
use std::cell::{Cell, RefCell};

/// Callers waiting for the refresh in flight (`None`: no refresh in flight).
pub type Waiters = Option<Vec<oneshot::Sender<Result<StoredTokens, CallError>>>>;

/// The client's state, by the module that uses each part.
pub struct ClientState {
    /// Where the client keeps things in the browser, under the app's name (fixed once
    /// the state is made, so `set_app_name` must come first: `provide_auth_named` does).
    pub names: Names,
    // `coordinator`: the one refresh of this tab and its timer.
    /// Callers of the refresh in flight.
    pub in_flight: RefCell<Waiters>,
    /// The preemptive refresh's timer.
    pub refresh_timer: Cell<Option<TimeoutHandle>>,
    /// The refresh token the timer was armed for.
    pub scheduled_for: RefCell<Option<String>>,
    /// Backoff, budget, `Retry-After` and urgency: the rules, time passed in.
    pub policy: RefCell<RefreshPolicy>,
    /// Wakes an attempt that waits for backoff or budget.
    pub wakers: RefCell<Vec<oneshot::Sender<()>>>,
    // `token_store`
    /// The newest pair, when storage refused to keep it.
    pub in_memory: RefCell<Option<StoredTokens>>,
    /// The newest pair another tab announced (or a `storage` event carried): it wins
    /// over an older pair read from storage. Dropped by a sign-out.
    pub announced: RefCell<Option<StoredTokens>>,
    // `browser_lock`
    /// This tab's name in the fallback lease.
    pub tab_id: String,
    // `dpop`
    /// The proof for the call about to be sent.
    pub pending_proof: RefCell<Option<String>>,
    // `pending_sign_out`
    /// A finish attempt is on its way (events come in bursts).
    pub sign_out_running: Cell<bool>,
    // `reconnect`
    /// A probe loop runs.
    pub probing: Cell<bool>,
    /// Probes since the server was last reached.
    pub probe_attempts: Cell<u32>,
    /// The next probe's timer.
    pub probe_timer: Cell<Option<TimeoutHandle>>,
    // `signals`
    /// The page's auth signals, once `<App/>` provided them.
    pub signals: Cell<Option<AuthState>>,
    // `tab_channel`
    /// This tab's end of the channel, once `listen` opened it.
    pub channel: RefCell<Option<web_sys::BroadcastChannel>>,
}

impl ClientState {
    fn new() -> Self {
        Self {
            names: Names::of(names::app()),
            in_flight: RefCell::new(None),
            refresh_timer: Cell::new(None),
            scheduled_for: RefCell::new(None),
            policy: RefCell::new(RefreshPolicy::default()),
            wakers: RefCell::new(Vec::new()),
            in_memory: RefCell::new(None),
            announced: RefCell::new(None),
            tab_id: format!("{:x}", (js_sys::Math::random() * 1e15) as u64),
            pending_proof: RefCell::new(None),
            sign_out_running: Cell::new(false),
            probing: Cell::new(false),
            probe_attempts: Cell::new(0),
            probe_timer: Cell::new(None),
            signals: Cell::new(None),
            channel: RefCell::new(None),
        }
    }
}

thread_local! {
    // Made once and kept for the page's life (a page's wasm never ends), so a plain
    // reference can be handed out.
    static CLIENT: &'static ClientState = Box::leak(Box::new(ClientState::new()));
}

/// The client's state.
pub fn client() -> &'static ClientState {
    CLIENT.with(|client| *client)
}
