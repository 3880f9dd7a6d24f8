//! `valise`: seal, open and inspect protected packages, run the community
//! trust list and collect access events.

fn main() {
    println!("valise {}", env!("CARGO_PKG_VERSION"));
}
