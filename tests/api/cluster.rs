//! On a Redis Cluster: the slot that holds a person's keys moves to another master
//! while they are signed in, and they stay signed in (the client follows the move).

use crate::helpers::*;
use serde_json::{json, Value};
use std::process::Command;

fn cluster_ports() -> Vec<u16> {
    std::env::var("REDIS_CLUSTER_NODES")
        .expect("REDIS_CLUSTER_NODES must name a Redis Cluster (./scripts/test starts one)")
        .split(',')
        .filter_map(|url| url.trim_end_matches('/').rsplit(':').next()?.parse().ok())
        .collect()
}

/// `redis-cli -p <port> <args…>`, its trimmed output.
fn cli(port: u16, args: &[&str]) -> String {
    let output = Command::new("redis-cli")
        .arg("-p")
        .arg(port.to_string())
        .args(args)
        .output()
        .expect("redis-cli runs");
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// The port of the master that owns `slot`.
fn owner_of(slot: &str, ports: &[u16]) -> u16 {
    *ports
        .iter()
        .find(|port| cli(**port, &["cluster", "countkeysinslot", slot]) != "0")
        .expect("a master holds the person's keys")
}

/// Moves every key of `slot` from `from` to `to` and gives `to` the slot, the way
/// `redis-cli --cluster reshard` does.
fn move_slot(slot: &str, from: u16, to: u16, ports: &[u16]) {
    let from_id = cli(from, &["cluster", "myid"]);
    let to_id = cli(to, &["cluster", "myid"]);
    cli(to, &["cluster", "setslot", slot, "importing", &from_id]);
    cli(from, &["cluster", "setslot", slot, "migrating", &to_id]);
    loop {
        let keys = cli(from, &["cluster", "getkeysinslot", slot, "100"]);
        let keys: Vec<&str> = keys.lines().filter(|k| !k.is_empty()).collect();
        if keys.is_empty() {
            break;
        }
        let to_port = to.to_string();
        let mut args = vec!["migrate", "127.0.0.1", &to_port, "", "0", "5000", "KEYS"];
        args.extend(keys);
        assert_eq!(cli(from, &args), "OK", "MIGRATE failed");
    }
    for port in ports {
        cli(*port, &["cluster", "setslot", slot, "node", &to_id]);
    }
}

#[redis_test]
async fn a_person_stays_signed_in_while_their_slot_moves_to_another_master() {
    let ports = cluster_ports();
    let app = spawn_app_with(AppOptions::default().with("REDIS_URL", "").with(
        "REDIS_CLUSTER_NODES",
        &std::env::var("REDIS_CLUSTER_NODES").unwrap(),
    ))
    .await;
    let pair = app.sign_in(&email()).await;
    let me: Value = app.authed_json("me", &pair.access, json!({})).await;
    let user_id = me["user"]["id"].as_str().unwrap();
    let slot = cli(ports[0], &["cluster", "keyslot", &format!("{{{user_id}}}")]);
    let from = owner_of(&slot, &ports);
    let to = *ports.iter().find(|port| **port != from).unwrap();

    move_slot(&slot, from, to, &ports);
    assert_eq!(cli(from, &["cluster", "countkeysinslot", &slot]), "0");
    assert_ne!(cli(to, &["cluster", "countkeysinslot", &slot]), "0");

    // Every read and the rotation script now run on the new owner.
    assert_eq!(app.me(&pair.access).await.status(), 200);
    let next = app.rotate(&pair.refresh).await;
    assert_eq!(app.me(&next.access).await.status(), 200);
    let sessions: Value = app.authed_json("sessions", &next.access, json!({})).await;
    assert_eq!(sessions.as_array().unwrap().len(), 1, "{sessions}");
}
