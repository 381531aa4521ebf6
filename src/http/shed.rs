//! Load shedding: at most `MAX_CONCURRENT_REQUESTS` requests are worked on at once by
//! this process. One more is answered at once with 503 `unavailable` and
//! `Retry-After: 1`, instead of waiting in a queue that only grows while the server is
//! slow (a hung store, a flood) and answering everyone late. Clients treat it like any
//! 503: retry later, never sign out.

use crate::auth::server::api_layer::error_response;
use crate::auth::AuthError;
use axum::{
    extract::Request,
    http::{header, HeaderValue},
    response::Response,
};
use futures::future::{Either, Ready};
use std::{
    convert::Infallible,
    sync::Arc,
    task::{Context, Poll},
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::{Layer, Service};

/// The layer: one budget of `max` requests shared by every clone (every thread).
#[derive(Clone)]
pub struct ShedLayer {
    slots: Arc<Semaphore>,
}

impl ShedLayer {
    /// Allows `max` requests in progress at once.
    pub fn new(max: usize) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(max)),
        }
    }
}

impl<S> Layer<S> for ShedLayer {
    type Service = Shed<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Shed {
            inner,
            slots: self.slots.clone(),
        }
    }
}

/// The service [`ShedLayer`] makes.
#[derive(Clone)]
pub struct Shed<S> {
    inner: S,
    slots: Arc<Semaphore>,
}

impl<S> Service<Request> for Shed<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<Holding<S::Future>, Ready<Result<Response, Infallible>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        match self.slots.clone().try_acquire_owned() {
            Ok(slot) => Either::Left(Holding {
                inner: self.inner.call(request),
                _slot: slot,
            }),
            Err(_) => Either::Right(futures::future::ready(Ok(overloaded()))),
        }
    }
}

pin_project_lite::pin_project! {
    /// A request's answer, holding its slot until the answer is ready.
    pub struct Holding<F> {
        #[pin]
        inner: F,
        _slot: OwnedSemaphorePermit,
    }
}

impl<F: std::future::Future> std::future::Future for Holding<F> {
    type Output = F::Output;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project().inner.poll(cx)
    }
}

/// The answer when every slot is taken.
fn overloaded() -> Response {
    crate::auth::server::counters::shed();
    let mut response = error_response(&AuthError::Unavailable);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}
