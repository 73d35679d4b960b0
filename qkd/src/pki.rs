//! Test PKI for the simulator and integrators' trials: a CA, a KME server certificate for
//! `localhost`/`127.0.0.1`, and one client certificate per SAE whose common name is the SAE
//! id (which is how the simulator and real KMEs identify SAEs). Private keys are written with
//! mode 0600. Not for production: real deployments use their operator's PKI.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

use crate::error::{Error, Result};

/// File name of the CA certificate written by [`generate`].
pub const CA_CERT: &str = "ca.pem";
/// File name of the KME server certificate.
pub const KME_CERT: &str = "kme.pem";
/// File name of the KME server key.
pub const KME_KEY: &str = "kme-key.pem";

/// What [`generate`] wrote.
#[derive(Debug, Clone)]
pub struct PkiFiles {
    /// CA certificate (PEM).
    pub ca_cert: PathBuf,
    /// CA private key (PEM, 0600).
    pub ca_key: PathBuf,
    /// KME server certificate and key.
    pub kme: (PathBuf, PathBuf),
    /// Per SAE: (SAE id, certificate, key).
    pub saes: Vec<(String, PathBuf, PathBuf)>,
}

/// Writes a CA, a KME server certificate and one client certificate per SAE in `saes` to
/// `out` (created if missing): `ca.pem`, `ca-key.pem`, `kme.pem`, `kme-key.pem`,
/// `<sae>.pem`, `<sae>-key.pem`.
pub fn generate(out: &Path, saes: &[String]) -> Result<PkiFiles> {
    for sae in saes {
        if sae.is_empty()
            || !sae
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            || sae.starts_with('.')
        {
            return Err(Error::Config {
                reason: format!(
                    "SAE id {sae:?} must be non-empty ASCII letters, digits, '-', '_' or '.' (it names files)"
                ),
            });
        }
    }
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;

    let ca_key = KeyPair::generate().map_err(pki_err)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(pki_err)?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Liaison test KME CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca_params.self_signed(&ca_key).map_err(pki_err)?;
    let ca_cert_path = write(out, CA_CERT, ca_cert.pem().as_bytes(), false)?;
    let ca_key_path = write(out, "ca-key.pem", ca_key.serialize_pem().as_bytes(), true)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let kme = leaf(
        out,
        "kme",
        "Liaison test KME",
        vec!["localhost".into(), "127.0.0.1".into(), "::1".into()],
        ExtendedKeyUsagePurpose::ServerAuth,
        &issuer,
    )?;
    let mut sae_files = Vec::new();
    for sae in saes {
        let (cert, key) = leaf(
            out,
            sae,
            sae,
            Vec::new(),
            ExtendedKeyUsagePurpose::ClientAuth,
            &issuer,
        )?;
        sae_files.push((sae.clone(), cert, key));
    }
    Ok(PkiFiles {
        ca_cert: ca_cert_path,
        ca_key: ca_key_path,
        kme,
        saes: sae_files,
    })
}

fn leaf(
    out: &Path,
    stem: &str,
    common_name: &str,
    names: Vec<String>,
    usage: ExtendedKeyUsagePurpose,
    issuer: &Issuer<'_, KeyPair>,
) -> Result<(PathBuf, PathBuf)> {
    let key = KeyPair::generate().map_err(pki_err)?;
    let mut params = CertificateParams::new(names).map_err(pki_err)?;
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![usage];
    params.use_authority_key_identifier_extension = true;
    let cert = params.signed_by(&key, issuer).map_err(pki_err)?;
    let cert_path = write(out, &format!("{stem}.pem"), cert.pem().as_bytes(), false)?;
    let key_path = write(
        out,
        &format!("{stem}-key.pem"),
        key.serialize_pem().as_bytes(),
        true,
    )?;
    Ok((cert_path, key_path))
}

/// Writes a file; secret files are created with mode 0600 (and re-moded if they existed).
fn write(dir: &Path, name: &str, contents: &[u8], secret: bool) -> Result<PathBuf> {
    let path = dir.join(name);
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    if secret {
        options.mode(0o600);
    }
    let mut file = options.open(&path).map_err(|e| Error::io(&path, e))?;
    if secret {
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| Error::io(&path, e))?;
    }
    file.write_all(contents).map_err(|e| Error::io(&path, e))?;
    Ok(path)
}

fn pki_err(error: rcgen::Error) -> Error {
    Error::Pki {
        reason: error.to_string(),
    }
}
