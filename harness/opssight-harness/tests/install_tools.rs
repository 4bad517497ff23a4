//! scripts/install-tools.sh refuses a download whose checksum is not the
//! pinned one and installs nothing (a fake `curl` serves wrong bytes; the
//! real downloads cannot run here).

use std::path::Path;
use std::process::Command;

mod common;

#[test]
fn a_download_with_the_wrong_checksum_installs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    // curl -fsSL --retry 3 -o FILE URL: writes bytes that are not the release.
    let curl = bin.join("curl");
    std::fs::write(
        &curl,
        "#!/bin/sh\necho \"curl $*\" >> \"$FAKE_LOG\"\nwhile [ $# -gt 0 ]; do if [ \"$1\" = -o ]; then echo 'not the release' > \"$2\"; fi; shift; done\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&curl, std::fs::Permissions::from_mode(0o755)).unwrap();
    let target = dir.path().join("tools");
    let log = dir.path().join("calls.log");
    let out = Command::new("bash")
        .arg(common::repo_root().join("scripts/install-tools.sh"))
        .arg(&target)
        .env(
            "PATH",
            format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
        )
        .env("FAKE_LOG", &log)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("checksum mismatch for kind: expected c72eda46430f065fb45c5f70e7c957cc9209402ef309294821978677c8fb3284"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing installed"), "{stderr}");
    let calls = std::fs::read_to_string(&log).unwrap();
    assert!(
        calls.contains(
            "https://github.com/kubernetes-sigs/kind/releases/download/v0.29.0/kind-linux-amd64"
        ),
        "{calls}"
    );
    for tool in ["kind", "helm", "kubectl"] {
        assert!(
            !Path::new(&target).join(tool).exists(),
            "{tool} was installed"
        );
    }
}
