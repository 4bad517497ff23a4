//! The control plane's keys, made for one run: a CA, kube-apiserver's
//! serving certificate for 127.0.0.1, client certificates for the harness
//! (system:masters) and for kube-controller-manager, and the
//! service-account signing key. Every file is 0600 in the run's 0700
//! directory, created so from the start (never briefly readable).

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("making the control plane's certificates: {0}")]
    Cert(#[from] rcgen::Error),
    #[error("writing {}: {source}", .path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A certificate and its key, as files.
#[derive(Debug, Clone)]
pub struct CertFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The run's PKI, as files in its directory.
#[derive(Debug, Clone)]
pub struct Pki {
    pub ca_cert: PathBuf,
    pub ca_pem: String,
    pub apiserver: CertFiles,
    pub admin: CertFiles,
    pub controller_manager: CertFiles,
    pub sa_public: PathBuf,
    pub sa_private: PathBuf,
}

/// Creates `path` 0600 and writes `contents` (the file must not exist).
pub fn write_private(path: &Path, contents: &[u8]) -> Result<(), PkiError> {
    emulator_core::standalone::write_new_private(path, contents).map_err(|source| PkiError::Write {
        path: path.to_owned(),
        source,
    })
}

fn client_params(
    common_name: &str,
    organization: Option<&str>,
) -> Result<CertificateParams, rcgen::Error> {
    let mut p = CertificateParams::new(Vec::<String>::new())?;
    p.distinguished_name.push(DnType::CommonName, common_name);
    if let Some(o) = organization {
        p.distinguished_name.push(DnType::OrganizationName, o);
    }
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    Ok(p)
}

impl Pki {
    pub fn generate(dir: &Path) -> Result<Self, PkiError> {
        let ca_key = KeyPair::generate()?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "opssight-harness-binaries-ca");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca_params.self_signed(&ca_key)?;
        let ca_pem = ca_cert.pem();
        let issuer = Issuer::new(ca_params, ca_key);

        let mut serving = CertificateParams::new(Vec::<String>::new())?;
        serving
            .distinguished_name
            .push(DnType::CommonName, "kube-apiserver");
        serving.subject_alt_names = vec![
            SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            SanType::DnsName("localhost".try_into()?),
            SanType::DnsName("kubernetes".try_into()?),
            SanType::DnsName("kubernetes.default".try_into()?),
            SanType::DnsName("kubernetes.default.svc".try_into()?),
        ];
        serving.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        serving.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];

        let ca_file = dir.join("ca.crt");
        write_private(&ca_file, ca_pem.as_bytes())?;
        let issue = |name: &str, params: CertificateParams| -> Result<CertFiles, PkiError> {
            let key = KeyPair::generate()?;
            let cert = params.signed_by(&key, &issuer)?;
            let files = CertFiles {
                cert: dir.join(format!("{name}.crt")),
                key: dir.join(format!("{name}.key")),
            };
            write_private(&files.cert, cert.pem().as_bytes())?;
            write_private(&files.key, key.serialize_pem().as_bytes())?;
            Ok(files)
        };
        let apiserver = issue("apiserver", serving)?;
        let admin = issue(
            "admin",
            client_params("opssight-harness", Some("system:masters"))?,
        )?;
        let controller_manager = issue(
            "kube-controller-manager",
            client_params("system:kube-controller-manager", None)?,
        )?;

        let sa = KeyPair::generate()?;
        let sa_public = dir.join("sa.pub");
        let sa_private = dir.join("sa.key");
        write_private(&sa_public, sa.public_key_pem().as_bytes())?;
        write_private(&sa_private, sa.serialize_pem().as_bytes())?;
        Ok(Self {
            ca_cert: ca_file,
            ca_pem,
            apiserver,
            admin,
            controller_manager,
            sa_public,
            sa_private,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    #[test]
    fn every_file_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let pki = Pki::generate(dir.path()).unwrap();
        for f in [
            &pki.ca_cert,
            &pki.admin.key,
            &pki.apiserver.key,
            &pki.sa_private,
        ] {
            let mode = std::fs::metadata(f).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", f.display());
        }
        assert!(pki.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
    }

    #[test]
    fn an_existing_file_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.crt"), "keep").unwrap();
        assert!(Pki::generate(dir.path()).is_err());
        assert_eq!(
            std::fs::read_to_string(dir.path().join("ca.crt")).unwrap(),
            "keep"
        );
    }
}
