//! The lesson's integration tests, in one binary: a module per subject, each
//! in its own file of this folder, and the helpers they share in `common/`.
//!
//! One binary links the workspace once and runs every test from one pool of
//! threads, instead of linking fifteen binaries and running them one after
//! another. Run one subject or one test by its path:
//!
//! ```text
//! cargo test --test lesson server_v2::
//! cargo test --test lesson lab::accept_on_an_empty_queue_blocks_until_a_client_connects
//! ```
//!
//! The tests start the workspace's programs for real (the servers, the
//! clients, the examples, the instruments) on free ports of 127.0.0.1, and
//! read what the kernel holds. `cargo test --workspace` builds every one of
//! those programs before any test runs.

mod common;

mod clients;
mod command_lines;
mod crowd;
mod docs;
mod examine;
mod examples;
mod hostile_input;
mod instruments;
mod java_interop;
mod lab;
mod server_v1;
mod server_v2;
mod server_v3;
mod side_by_side;
mod terminal;
mod tour;
