//! HTTPS: the control server's certificate and key (`--tls-cert`,
//! `--tls-key`, PEM files) and what the CLI trusts (the system's roots,
//! plus `--ca-cert`). rustls with the ring provider, the one kube already
//! brings.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The crypto provider every TLS config of bi uses.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The server's TLS config from a certificate chain and its key (PEM).
pub fn server_config(cert: &Path, key: &Path) -> anyhow::Result<rustls::ServerConfig> {
    let chain = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("tls_cert: cannot read {}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| {
            format!(
                "tls_cert: {} is not a PEM certificate chain",
                cert.display()
            )
        })?;
    if chain.is_empty() {
        bail!("tls_cert: {} holds no certificate", cert.display());
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("tls_key: {} is not a PEM private key", key.display()))?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .context("while setting up TLS")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context(
            "tls_key: the key does not match the certificate, or is of a kind rustls refuses",
        )?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// What the CLI trusts: the system's roots, and the CA of `ca` (PEM) when
/// given (a self-signed bi, an internal CA).
pub fn client_config(ca: Option<&Path>) -> anyhow::Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    if let Some(ca) = ca {
        let certs = CertificateDer::pem_file_iter(ca)
            .with_context(|| format!("ca_cert: cannot read {}", ca.display()))?
            .collect::<Result<Vec<_>, _>>()
            .with_context(|| format!("ca_cert: {} is not a PEM certificate", ca.display()))?;
        if certs.is_empty() {
            bail!("ca_cert: {} holds no certificate", ca.display());
        }
        for cert in certs {
            roots.add(cert).with_context(|| {
                format!("ca_cert: {} is not a usable CA certificate", ca.display())
            })?;
        }
    }
    Ok(rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .context("while setting up TLS")?
        .with_root_certificates(roots)
        .with_no_client_auth())
}
