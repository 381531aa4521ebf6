//! Connections through the real listener (no proxy in front): a burst of them is served
//! whichever thread takes each one; a few hundred that send nothing do not slow anyone
//! else down, and a connection that does not finish its request's headers within
//! `HEADER_READ_TIMEOUT` is closed instead of held forever.

use crate::helpers::*;
use std::time::{Duration, Instant};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// Half a request: headers that never end (a slowloris client).
const UNFINISHED: &[u8] = b"POST /api/v1/status HTTP/1.1\r\nHost: app\r\n";

/// Two requests in one write: the first keeps the connection open, the second closes it.
const TWO_REQUESTS: &[u8] = b"POST /api/v1/status HTTP/1.1\r\nHost: app\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}\
POST /api/v1/status HTTP/1.1\r\nHost: app\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";

#[redis_test]
async fn a_burst_of_connections_is_served_whichever_thread_takes_each() {
    // Most of these are accepted by one thread and handed to the others to serve.
    let app = spawn_app_with(AppOptions::default().with("SERVER_THREADS", "4")).await;
    let address = app.address.trim_start_matches("http://").to_string();
    let mut connections = Vec::new();
    for _ in 0..24 {
        connections.push(TcpStream::connect(&address).await.unwrap());
    }
    for connection in &mut connections {
        connection.write_all(TWO_REQUESTS).await.unwrap();
    }
    for (n, mut connection) in connections.into_iter().enumerate() {
        let mut answer = Vec::new();
        let read =
            tokio::time::timeout(Duration::from_secs(10), connection.read_to_end(&mut answer));
        assert!(read.await.is_ok(), "connection {n} got no full answer");
        let answers = String::from_utf8_lossy(&answer)
            .matches("HTTP/1.1 200 OK")
            .count();
        assert_eq!(
            answers,
            2,
            "connection {n}: {}",
            String::from_utf8_lossy(&answer)
        );
    }
}

#[redis_test]
async fn three_hundred_idle_connections_do_not_delay_a_normal_request() {
    let app = spawn_app().await;
    let address = app.address.trim_start_matches("http://").to_string();
    let mut idle = Vec::new();
    for n in 0..300 {
        let mut connection = TcpStream::connect(&address).await.unwrap();
        if n % 2 == 0 {
            connection.write_all(UNFINISHED).await.unwrap();
        }
        idle.push(connection);
    }
    let pair = app.sign_in(&email()).await;
    let started = Instant::now();
    assert_eq!(app.me(&pair.access).await.status(), 200);
    assert_eq!(app.refresh(&pair.refresh).await.status(), 200);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[redis_test]
async fn a_connection_that_sends_no_complete_request_is_closed() {
    let app = spawn_app_with(AppOptions::default().with("HEADER_READ_TIMEOUT", "1s")).await;
    let address = app.address.trim_start_matches("http://").to_string();
    let mut silent = TcpStream::connect(&address).await.unwrap();
    let mut slow = TcpStream::connect(&address).await.unwrap();
    slow.write_all(UNFINISHED).await.unwrap();
    for (what, connection) in [("silent", &mut silent), ("slow", &mut slow)] {
        let mut answer = Vec::new();
        let closed =
            tokio::time::timeout(Duration::from_secs(5), connection.read_to_end(&mut answer));
        assert!(
            closed.await.is_ok(),
            "the {what} connection is still open after 5 s"
        );
    }
    // Meanwhile a real client is served as ever.
    assert_eq!(app.me("not-a-token").await.status(), 401);
}
