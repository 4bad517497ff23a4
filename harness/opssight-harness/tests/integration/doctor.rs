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
    doctor_with(bin, kubeconfig, &kubeconfig.with_file_name("no-components"))
}

fn doctor_with(bin: &Path, kubeconfig: &Path, components: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_opssight-harness"))
        .arg("doctor")
        .env("PATH", bin)
        .env("KUBECONFIG", kubeconfig)
        .env("OPSSIGHT_BIN_DIR", components)
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
    fake(&bin, "kind", "echo 'kind v0.30.0 go1.24.6 linux/amd64'");
    fake(&bin, "helm", "echo 'v3.18.6+gb76a950'");
    fake(
        &bin,
        "kubectl",
        r#"echo '{"clientVersion":{"gitVersion":"v1.33.4","major":"1","minor":"33"}}'"#,
    );
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\ncurrent-context: staging\n",
    )
    .unwrap();
    let out = doctor(&bin, &kubeconfig);
    assert!(
        out.contains("kind:     available (Docker reachable; kind 0.30.0, helm 3.18.6, kubectl 1.33.4 on PATH)"),
        "{out}"
    );
    assert!(out.contains("existing: current context staging"), "{out}");
    assert!(!out.contains("@requires-kubectl will be skipped"), "{out}");
}

#[test]
fn doctor_says_whether_binaries_can_run_and_with_which_versions() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let components = dir.path().join("components");
    let out = doctor_with(&empty, &kubeconfig, &components);
    assert!(out.contains("binaries: not available"), "{out}");
    assert!(out.contains("scripts/build-real-components.sh"), "{out}");
    assert!(out.contains("Go is not installed"), "{out}");

    // What the build script writes, with files where it names them.
    std::fs::create_dir_all(&components).unwrap();
    let file = |name: &str| {
        let p = components.join(name);
        std::fs::write(&p, "").unwrap();
        p
    };
    let c = |name: &str, v: &str| serde_json::json!({ "version": v, "module": "m", "path": file(name) });
    let manifest = serde_json::json!({
        "schema_version": 1,
        "external-secrets": { "version": "v0.20.4", "module": "github.com/external-secrets/external-secrets",
            "path": file("external-secrets-v0.20.4"), "crds": file("crds.yaml"), "chart": file("chart.yaml"),
            "note": "v2.9.0 cannot be built from the module proxy" },
        "kube-apiserver": c("kube-apiserver-v1.34.4", "v1.34.4"),
        "kube-controller-manager": c("kube-controller-manager-v1.34.4", "v1.34.4"),
        "etcd": c("etcd-v3.6.4", "v3.6.4"),
    });
    std::fs::write(components.join("components.json"), manifest.to_string()).unwrap();
    let out = doctor_with(&empty, &kubeconfig, &components);
    assert!(out.contains("binaries: available"), "{out}");
    assert!(out.contains("external-secrets v0.20.4"), "{out}");
    assert!(out.contains("kube-apiserver v1.34.4"), "{out}");
    assert!(out.contains("etcd v3.6.4"), "{out}");
    assert!(out.contains("v2.9.0 cannot be built"), "{out}");
}
