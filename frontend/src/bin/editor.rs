//! The workflow editor's bundle (`editor.html`, served under `/editor/`).

fn main() {
    frontend::start_editor();
}
