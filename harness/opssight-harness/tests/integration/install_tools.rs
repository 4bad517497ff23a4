//! scripts/install-tools.sh refuses a download whose checksum is not the
//! pinned one and installs nothing (a fake `curl` serves wrong bytes; the
//! real downloads cannot run here), on each platform it has pins for; it
//! installs the versions the preflight pins.

use std::path::Path;
use std::process::Command;

use opssight_harness::env::preflight;

use crate::common;

struct Run {
    code: Option<i32>,
    stderr: String,
    calls: String,
    target: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

fn install(platform: &str) -> Run {
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
        .env("OPSSIGHT_TOOLS_PLATFORM", platform)
        .output()
        .unwrap();
    Run {
        code: out.status.code(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        calls: std::fs::read_to_string(&log).unwrap_or_default(),
        target,
        _dir: dir,
    }
}

#[test]
fn a_download_with_the_wrong_checksum_installs_nothing_on_every_pinned_platform() {
    // kind's published SHA-256 of each platform's binary (v0.30.0).
    for (platform, kind_sha) in [
        (
            "linux-amd64",
            "517ab7fc89ddeed5fa65abf71530d90648d9638ef0c4cde22c2c11f8097b8889",
        ),
        (
            "linux-arm64",
            "7ea2de9d2d190022ed4a8a4e3ac0636c8a455e460b9a13ccf19f15d07f4f00eb",
        ),
        (
            "darwin-arm64",
            "ceaf40df1d1551c481fb50e3deb5c3deecad5fd599df5469626b70ddf52a1518",
        ),
        (
            "darwin-amd64",
            "4f0b6e3b88bdc66d922c08469f05ef507d4903dd236e6319199bb9c868eed274",
        ),
    ] {
        let run = install(platform);
        assert_eq!(run.code, Some(1), "{platform}: {}", run.stderr);
        assert!(
            run.stderr
                .contains(&format!("checksum mismatch for kind: expected {kind_sha}")),
            "{platform}: {}",
            run.stderr
        );
        assert!(run.stderr.contains("nothing installed"), "{}", run.stderr);
        assert!(
            run.calls.contains(&format!(
                "https://github.com/kubernetes-sigs/kind/releases/download/v0.30.0/kind-{platform}"
            )),
            "{platform}: {}",
            run.calls
        );
        for tool in ["kind", "helm", "kubectl"] {
            assert!(
                !Path::new(&run.target).join(tool).exists(),
                "{platform}: {tool} was installed"
            );
        }
    }
}

#[test]
fn a_platform_without_pins_is_refused_saying_which_have_them() {
    let run = install("windows-amd64");
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "no pinned checksums for windows-amd64 (pinned: linux-amd64, linux-arm64, darwin-arm64, darwin-amd64)"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(run.calls, "", "nothing was downloaded");
}

/// What the script installs is what the preflight calls pinned, and each
/// platform has a checksum for each tool.
#[test]
fn the_script_installs_the_pinned_versions_with_a_checksum_per_platform() {
    let script =
        std::fs::read_to_string(common::repo_root().join("scripts/install-tools.sh")).unwrap();
    for (var, pin) in [
        ("KIND_VERSION", preflight::KIND),
        ("HELM_VERSION", preflight::HELM),
        ("KUBECTL_VERSION", preflight::KUBECTL),
    ] {
        assert!(
            script.contains(&format!("\n{var}=v{}\n", pin.pinned)),
            "{var} is not v{}",
            pin.pinned
        );
    }
    let sha = regex::Regex::new(r"(?m)^    (KIND|HELM|KUBECTL)_SHA256=([0-9a-f]{64})$").unwrap();
    let pins: Vec<(String, String)> = sha
        .captures_iter(&script)
        .map(|c| (c[1].to_owned(), c[2].to_owned()))
        .collect();
    assert_eq!(pins.len(), 12, "three tools times four platforms: {pins:?}");
    let mut unique: Vec<&String> = pins.iter().map(|(_, h)| h).collect();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 12, "no checksum is used twice");
}
