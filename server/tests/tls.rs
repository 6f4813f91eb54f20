//! bi over HTTPS: `bi serve --tls-cert --tls-key` with a certificate from a
//! CA the test makes; the CLI trusts it with `--ca-cert` (and refuses the
//! server without it); the live events come over wss; the session cookie is
//! `Secure`; plain HTTP to the HTTPS port gets nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A CA and a certificate it signed for `localhost` and 127.0.0.1, as PEM
/// files in `dir`: (ca, cert, key).
fn certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "bi test CA");
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, rcgen::KeyPair::generate().unwrap())
        .unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let paths = (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    );
    std::fs::write(&paths.0, ca.pem()).unwrap();
    std::fs::write(&paths.1, leaf.pem()).unwrap();
    std::fs::write(&paths.2, key.serialize_pem()).unwrap();
    paths
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn bi(url: &str, config: &Path, args: &[&str], stdin: &str) -> Output {
    assert_cmd::cargo::cargo_bin_cmd!("bi")
        .args(args)
        .env("BI_SERVER", url)
        .env("XDG_CONFIG_HOME", config)
        // NB: an empty data directory: no offline fallback can answer.
        .env("BI_DATA_DIR", config)
        .env_remove("BI_TOKEN")
        .env_remove("BI_CA_CERT")
        .env_remove("KUBECONFIG")
        .write_stdin(stdin)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap()
}

fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[tokio::test]
async fn bi_serves_https_and_the_cli_trusts_the_ca_it_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = certificates(dir.path());
    let mut child = Command::new(env!("CARGO_BIN_EXE_bi"))
        .args([
            "serve",
            "--sandbox",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(dir.path().join("data"))
        .arg("--tls-cert")
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key)
        .env("BI_SETUP_TOKEN", "tls-tests-setup-token")
        .env_remove("KUBECONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let server = Killed(child);
    let (found, address) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if let Some(at) = line.find("bi is listening on ") {
                let _ = found.send(line[at + "bi is listening on ".len()..].trim().to_owned());
            }
        }
    });
    let url = address
        .recv_timeout(Duration::from_secs(120))
        .expect("bi never said where it listens");
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let config = tempfile::tempdir().unwrap();
    let ca_arg = ca.to_str().unwrap();

    // Without the CA, the CLI refuses the server's certificate.
    let untrusted = bi(&url, config.path(), &["status"], "");
    assert!(!untrusted.status.success());

    ok(&bi(
        &url,
        config.path(),
        &[
            "setup",
            "--ca-cert",
            ca_arg,
            "--token",
            "tls-tests-setup-token",
            "--username",
            "admin",
            "--password-stdin",
        ],
        "a long tls password",
    ));
    let status = ok(&bi(
        &url,
        config.path(),
        &["status", "--ca-cert", ca_arg],
        "",
    ));
    assert!(status.contains("battery_core"), "{status}");
    // `bi apply` follows the snapshot over wss.
    let applied = ok(&bi(
        &url,
        config.path(),
        &["apply", "--ca-cert", ca_arg],
        "",
    ));
    assert!(applied.contains("succeeded"), "{applied}");

    // A browser's session cookie is Secure over HTTPS.
    let tls = bi_server::tls::client_config(Some(&ca)).unwrap();
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form = client.get(format!("{url}/sign-in")).send().await.unwrap();
    let form_cookie = form.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(form_cookie.contains("Secure"), "{form_cookie}");
    let form_cookie = form_cookie.split(';').next().unwrap().to_owned();
    let html = form.text().await.unwrap();
    let marker = r#"name="csrf_token" value=""#;
    let start = html.find(marker).unwrap() + marker.len();
    let csrf = html[start..].split('"').next().unwrap();
    let response = client
        .post(format!("{url}/auth/sign-in"))
        .header("origin", &url)
        .header("cookie", form_cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "username=admin&password=a+long+tls+password&csrf_token={csrf}"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.contains("Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );

    // Plain HTTP to the HTTPS port gets no page.
    let plain = reqwest::Client::builder()
        .tls_backend_preconfigured(bi_server::tls::client_config(None).unwrap())
        .build()
        .unwrap()
        .get(url.replace("https://", "http://") + "/healthz")
        .send()
        .await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());
    drop(server);
}

#[test]
fn a_bad_certificate_stops_bi_before_it_serves() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("bogus.pem");
    std::fs::write(&bogus, "not a certificate").unwrap();
    let output = assert_cmd::cargo::cargo_bin_cmd!("bi")
        .args([
            "serve",
            "--sandbox",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(dir.path().join("data"))
        .arg("--tls-cert")
        .arg(&bogus)
        .arg("--tls-key")
        .arg(&bogus)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("tls_cert"), "{stderr}");
}
