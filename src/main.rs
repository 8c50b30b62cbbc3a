//! The lesson's map: how to run each version by hand.

fn main() {
    println!("server-v1: cargo run -p server-v1   then: cargo run -p client --bin client-v1");
}
