//! The example relay configurations in `examples/` are what operators copy: each must parse
//! under the same schema `liaison-node run` uses (unknown keys refused), so a renamed or removed
//! key cannot leave a stale example behind.

use std::path::Path;

use liaison_node::config::Config;

#[test]
fn every_example_relay_config_parses() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut checked = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("examples/ exists") {
        let path = entry.expect("readable entry").path();
        let is_relay_config = path.extension().is_some_and(|e| e == "toml")
            && path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("relay"));
        if is_relay_config {
            if let Err(e) = Config::read(&path) {
                panic!("{} does not parse: {e}", path.display());
            }
            checked.push(path);
        }
    }
    assert!(
        checked.len() >= 3,
        "expected relay.toml, relay-etsi014.toml and relay-psk.toml, found {checked:?}"
    );
}
