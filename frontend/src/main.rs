//! The main app's bundle (`index.html`).

fn main() {
    frontend::start();
}
