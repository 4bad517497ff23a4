//! `opssight-harness doctor` says which environments this machine can run,
//! and for kind what is missing (fake tools on PATH stand in for a machine).

use std::path::Path;
use std::process::Command;

fn fake(dir: &Path, name: &str, body: &str) {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn doctor(bin: &Path, kubeconfig: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_opssight-harness"))
        .arg("doctor")
        .env("PATH", bin)
        .env("KUBECONFIG", kubeconfig)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn doctor_names_what_each_environment_lacks() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = doctor(&empty, &kubeconfig);
    assert!(out.contains("embedded: available"), "{out}");
    assert!(out.contains("kind:     not available:"), "{out}");
    assert!(
        out.contains("docker is not installed (not on PATH)"),
        "{out}"
    );
    assert!(out.contains("kind is not installed (not on PATH)"), "{out}");
    assert!(
        out.contains(&format!(
            "existing: no kubeconfig at {}",
            kubeconfig.display()
        )),
        "{out}"
    );
    assert!(out.contains("@requires-kubectl will be skipped"), "{out}");

    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    fake(&bin, "docker", "echo 28.2.2");
    fake(&bin, "kind", "echo 'kind v0.29.0 go1.24.2 linux/amd64'");
    fake(&bin, "helm", "echo 'v3.18.6+gb76a950'");
    fake(
        &bin,
        "kubectl",
        r#"echo '{"clientVersion":{"major":"1","minor":"32"}}'"#,
    );
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\ncurrent-context: staging\n",
    )
    .unwrap();
    let out = doctor(&bin, &kubeconfig);
    assert!(out.contains("kind:     available"), "{out}");
    assert!(out.contains("existing: current context staging"), "{out}");
    assert!(!out.contains("@requires-kubectl will be skipped"), "{out}");
}
