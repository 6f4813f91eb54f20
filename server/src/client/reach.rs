//! How the CLI prints the addresses people open (`bi status`, `bi
//! batteries show`, `bi services list`) and fetches the CA certificate
//! (`bi ca`).

use std::path::Path;

use anyhow::Context;
use bi_api::reach::{Address, ReachView};

use super::ApiClient;

/// `https://grafana.bi.localhost/  routed, certificate issued`.
pub fn line(address: &Address) -> String {
    let sso = if address.signed_in {
        ", sign-in by SSO"
    } else {
        ""
    };
    format!(
        "{}  {}, certificate {}{sso}",
        address.url,
        address.route.progress.word("routed"),
        address.certificate.progress.word("issued"),
    )
}

/// The reach section of `bi status`.
pub fn render(reach: &ReachView) -> String {
    let mut out = String::new();
    match &reach.gateway {
        Some(gateway) => {
            out.push_str(&format!(
                "domain:          {} (certificates from {}{})\n",
                gateway.domain,
                gateway.issuer.id(),
                gateway
                    .address
                    .as_ref()
                    .map(|a| format!("; gateway at {a}"))
                    .unwrap_or_default()
            ));
            if reach.addresses.is_empty() {
                out.push_str("open:            nothing exposed yet\n");
            } else {
                out.push_str("open:\n");
                for address in &reach.addresses {
                    out.push_str(&format!("  {:<28} {}\n", address.label, line(address)));
                }
            }
            out.push_str(&format!("how to open:     {}\n", gateway.how_to_open));
        }
        None => out.push_str("open:            no ingress gateway installed\n"),
    }
    for unreachable in &reach.unreachable {
        out.push_str(&format!("  {}\n", unreachable.words));
    }
    if let Some(error) = &reach.cluster_error {
        out.push_str(&format!("  (statuses unknown: {error})\n"));
    }
    out
}

/// `bi ca`: writes the Battery CA's certificate to `output` (stdout when
/// None), with how to trust it.
pub async fn ca(api: &ApiClient, output: Option<&Path>) -> anyhow::Result<()> {
    let pem = api
        .get_text("/api/v1/ca.crt")
        .await
        .context("while reading the CA certificate")?;
    match output {
        Some(path) => {
            std::fs::write(path, &pem)
                .with_context(|| format!("while writing {}", path.display()))?;
            eprintln!(
                "wrote {}: import it as a trusted authority (macOS: `sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain {0}`; Debian/Ubuntu: copy it to /usr/local/share/ca-certificates/ and run `sudo update-ca-certificates`; Firefox: Settings → Certificates → Import)",
                path.display()
            );
        }
        None => print!("{pem}"),
    }
    Ok(())
}
