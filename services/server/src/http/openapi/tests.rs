//! Tests of the document.

#[test]
fn dump() {
    std::fs::write("/tmp/doc.json", serde_json::to_string_pretty(super::document()).unwrap()).unwrap();
}
