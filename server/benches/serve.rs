//! Load on the control server: requests per second and latency quantiles of
//! the pages and routes people keep open, with 100 concurrent clients (as
//! `wrk -c100` runs them), on an installation of every battery and a
//! project of every kind of object on the sandbox.
//!
//! `cargo bench -p bi-server --bench serve` (release build). Each route runs
//! for `BI_BENCH_SECONDS` (default 10) after a one-second warm-up. For
//! comparison it times `kubectl get deployments,statefulsets,daemonsets,nodes
//! -A` against the same cluster, what a user would run instead of the
//! dashboard's health card, and prints the ratio. Absolute figures vary with
//! the machine; the ratios much less.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use bi_api::auth::{NewAccount, NewToken, Role};
use bi_control::auth::{accounts, tokens};
use bi_model::catalog::ClusterProvider;
use bi_model::examples;
use bi_server::cli::{GlobalArgs, ServeArgs};
use bi_server::config::Settings;
use bi_server::router::router;
use bi_server::serve::{app_state, connect_cluster, keycloak_access, open_database};

/// Concurrent clients, as `wrk -c100`.
const CLIENTS: usize = 100;

/// The routes measured, in order. `/?unshared` is the dashboard with a
/// query of its own on every request, so that no two requests share a
/// render ([`bi_server::shared_pages`]): what rendering it costs.
const ROUTES: [&str; 5] = [
    "/healthz",
    "/batteries",
    "/",
    "/?unshared",
    "/api/v1/status",
];

/// The query that makes every request of a route its own.
const UNSHARED: &str = "?unshared";

/// One route's figures.
struct Figures {
    requests: usize,
    errors: usize,
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

#[tokio::main]
async fn main() {
    let seconds: u64 = std::env::var("BI_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let args = ServeArgs {
        listen: Some(addr),
        data_dir: Some(dir.path().to_path_buf()),
        site_root: Some(dir.path().join("site")),
        sandbox: true,
        ..ServeArgs::default()
    };
    let settings = Settings::resolve(&GlobalArgs::default(), &args, None, &[]).unwrap();
    let db = open_database(&settings).await.unwrap();
    let (connection, sandbox) = connect_cluster(&settings).await.unwrap();
    let sandbox = sandbox.expect("the bench runs on the sandbox");
    let (keycloak, _keycloak) = keycloak_access(&settings, Some(&sandbox)).await.unwrap();
    let (state, _task) = app_state(&settings, addr, db.clone(), connection, keycloak)
        .await
        .unwrap();
    state.auth.finish_setup();
    let token = admin_token(&db).await;

    let started = Instant::now();
    bi_control::desired_state::change(&db, "bench", "every battery and a project", |s| {
        let provider = s.provider;
        *s = examples::at_the_limits(ClusterProvider::Sandbox);
        s.provider = provider;
        Ok(())
    })
    .await
    .unwrap();
    let report = state.reconciler.request("bench").finished().await.unwrap();
    let objects = report.outcomes.len();
    println!(
        "installation: every battery and a project, {objects} objects, applied in {:.1} s (snapshot {:?})",
        started.elapsed().as_secs_f64(),
        report.status
    );

    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CLIENTS)
        .build()
        .unwrap();
    let base = format!("http://{addr}");
    let wrk = wrk_version();
    match &wrk {
        Some(version) => println!("load generator: {version}, {CLIENTS} connections, 2 threads"),
        None => println!(
            "load generator: {CLIENTS} clients in this process (wrk not on PATH: \
             `apt-get install wrk` for the issue's own tool)"
        ),
    }
    println!(
        "{:<16} {:>10} {:>12} {:>10} {:>10} {:>7} {:>9} {:>9}",
        "route", "requests", "requests/s", "p50", "p99", "errors", "bytes", "renders"
    );
    let mut results = Vec::new();
    // NB: `BI_BENCH_ROUTES=/,/api/v1/status` runs only those (to profile one).
    let routes: Vec<String> = std::env::var("BI_BENCH_ROUTES")
        .map(|list| list.split(',').map(str::to_owned).collect())
        .unwrap_or_else(|_| ROUTES.iter().map(|r| (*r).to_owned()).collect());
    for route in routes.iter().map(String::as_str) {
        let url = format!("{base}{route}");
        // NB: a warm-up fills connection pools and the cluster cache.
        load(&client, &url, &token, Duration::from_secs(1)).await;
        let body = client
            .get(&url)
            .header("authorization", format!("Bearer {token}"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        if let Ok(dir) = std::env::var("BI_BENCH_SAVE") {
            let name = route.trim_matches('/').replace('/', "_");
            let name = if name.is_empty() {
                "index".to_owned()
            } else {
                name
            };
            std::fs::write(std::path::Path::new(&dir).join(name), &body).unwrap();
        }
        let renders_before = page_renders(&client, &base, &token).await;
        let figures = match wrk {
            Some(_) => {
                let (url, token) = (url.clone(), token.clone());
                tokio::task::spawn_blocking(move || wrk_load(&url, &token, seconds))
                    .await
                    .unwrap()
            }
            None => load(&client, &url, &token, Duration::from_secs(seconds)).await,
        };
        let renders = page_renders(&client, &base, &token).await - renders_before;
        println!(
            "{:<16} {:>10} {:>12.0} {:>10} {:>10} {:>7} {:>9} {:>9}",
            route,
            figures.requests,
            figures.per_second,
            format!("{:.1} ms", figures.p50.as_secs_f64() * 1000.0),
            format!("{:.1} ms", figures.p99.as_secs_f64() * 1000.0),
            figures.errors,
            body.len(),
            renders
        );
        results.push((route.to_owned(), figures));
    }

    match kubectl_p50(&sandbox) {
        Some(kubectl) => {
            println!(
                "kubectl get deployments,statefulsets,daemonsets,nodes -A: p50 {:.1} ms (one client)",
                kubectl.as_secs_f64() * 1000.0
            );
            for (route, figures) in &results {
                if route == "/" || route == "/api/v1/status" {
                    println!(
                        "{route}: p50 under 100 clients is {:.2}× kubectl's single run",
                        figures.p50.as_secs_f64() / kubectl.as_secs_f64()
                    );
                }
            }
        }
        None => println!("kubectl: not on PATH, no comparison"),
    }
}

/// Pages the server rendered so far (`bi_page_renders_total`).
async fn page_renders(client: &reqwest::Client, base: &str, token: &str) -> u64 {
    let text = client
        .get(format!("{base}/metrics"))
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix("bi_page_renders_total "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no bi_page_renders_total in /metrics: {text}"))
}

/// An admin's API token.
async fn admin_token(db: &bi_control::Database) -> String {
    let password = "a long bench password";
    accounts::create(
        db,
        NewAccount {
            username: "bench".into(),
            password: password.into(),
            role: Role::Admin,
        },
    )
    .await
    .unwrap();
    let principal = accounts::sign_in(db, "bench", password, chrono::Utc::now())
        .await
        .unwrap();
    tokens::create(
        db,
        &principal,
        NewToken {
            name: "bench".into(),
            expires_in_days: None,
            owner: None,
        },
        chrono::Utc::now(),
    )
    .await
    .unwrap()
    .token
}

/// [`CLIENTS`] clients asking for `url` one request after another for `time`.
async fn load(client: &reqwest::Client, url: &str, token: &str, time: Duration) -> Figures {
    let started = Instant::now();
    let deadline = started + time;
    let mut workers = Vec::new();
    for worker in 0..CLIENTS {
        let (client, url, bearer) = (client.clone(), url.to_owned(), format!("Bearer {token}"));
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0;
            let mut sent_so_far = 0_u64;
            while Instant::now() < deadline {
                let sent = Instant::now();
                sent_so_far += 1;
                let url = if url.ends_with(UNSHARED) {
                    format!("{url}={worker}-{sent_so_far}")
                } else {
                    url.clone()
                };
                let answer = client
                    .get(&url)
                    .header("authorization", &bearer)
                    .send()
                    .await;
                let ok = match answer {
                    Ok(response) => {
                        let ok = response.status().is_success();
                        ok && response.bytes().await.is_ok()
                    }
                    Err(_) => false,
                };
                latencies.push(sent.elapsed());
                if !ok {
                    errors += 1;
                }
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for worker in workers {
        let (mine, failed) = worker.await.unwrap();
        latencies.extend(mine);
        errors += failed;
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let quantile = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    Figures {
        requests: latencies.len(),
        errors,
        per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: quantile(0.5),
        p99: quantile(0.99),
    }
}

/// `wrk`'s version line, when it is on PATH.
fn wrk_version() -> Option<String> {
    let output = Command::new("wrk").arg("--version").output().ok()?;
    // NB: wrk prints its version and usage, and exits 1.
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    text.lines()
        .find(|line| line.starts_with("wrk "))
        .map(|line| line.split(" [").next().unwrap_or(line).to_owned())
}

/// `wrk -t2 -c100 -d{seconds}s --latency` on `url`, as the issue measured.
fn wrk_load(url: &str, token: &str, seconds: u64) -> Figures {
    let mut wrk = Command::new("wrk");
    wrk.args(["-t2", &format!("-c{CLIENTS}"), &format!("-d{seconds}s")])
        .args(["--latency", "--timeout", "10s"])
        .args(["-H", &format!("Authorization: Bearer {token}")]);
    // NB: each wrk thread numbers its requests; the query makes each its own.
    let script = tempfile::NamedTempFile::new().unwrap();
    if url.ends_with(UNSHARED) {
        std::fs::write(
            script.path(),
            "local threads = 0\n\
             function setup(thread) threads = threads + 1; thread:set(\"id\", threads) end\n\
             local n = 0\n\
             function request() n = n + 1; \
             return wrk.format(nil, wrk.path .. \"=\" .. id .. \"-\" .. n) end\n",
        )
        .unwrap();
        wrk.arg("-s").arg(script.path());
    }
    let output = wrk.arg(url).output().expect("wrk runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "wrk failed: {text}");
    let field = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|line| line.strip_prefix(prefix))
            .map(str::trim)
            .unwrap_or_else(|| panic!("wrk printed no {prefix:?}: {text}"))
            .to_owned()
    };
    let requests = text
        .lines()
        .find_map(|line| line.trim().split_once(" requests in "))
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or_else(|| panic!("wrk printed no request count: {text}"));
    // NB: errors are answers other than 2xx/3xx, and connect, read, write
    // and timeout errors.
    let refused: usize = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("Non-2xx or 3xx responses:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    let socket: usize = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("Socket errors:"))
        .map(|list| {
            list.split(',')
                .filter_map(|part| part.split_whitespace().last()?.parse::<usize>().ok())
                .sum()
        })
        .unwrap_or(0);
    let errors = refused + socket;
    Figures {
        requests,
        errors,
        per_second: field("Requests/sec:").parse().expect("requests/s"),
        p50: wrk_duration(&field("50%")),
        p99: wrk_duration(&field("99%")),
    }
}

/// A wrk latency (`12.34ms`, `1.02s`, `850.00us`).
fn wrk_duration(text: &str) -> Duration {
    let (number, unit) = text
        .find(|c: char| c.is_ascii_alphabetic())
        .map(|at| text.split_at(at))
        .expect("a wrk latency has a unit");
    let number: f64 = number.parse().expect("a wrk latency is a number");
    let seconds = match unit {
        "us" => number / 1e6,
        "ms" => number / 1e3,
        "s" => number,
        "m" => number * 60.0,
        other => panic!("unknown wrk unit {other:?}"),
    };
    Duration::from_secs_f64(seconds)
}

/// The median of ten `kubectl get` runs against the sandbox, if kubectl is there.
fn kubectl_p50(sandbox: &bi_sandbox::Sandbox) -> Option<Duration> {
    let kubeconfig = sandbox.kubeconfig_path()?;
    let cache = tempfile::tempdir().ok()?;
    let mut times = Vec::new();
    for _ in 0..10 {
        let started = Instant::now();
        let output = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .arg("--cache-dir")
            .arg(cache.path())
            .args([
                "get",
                "deployments,statefulsets,daemonsets,nodes",
                "-A",
                "-o",
                "json",
            ])
            .output()
            .ok()?;
        if !output.status.success() {
            eprintln!(
                "kubectl failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            return None;
        }
        times.push(started.elapsed());
    }
    times.sort();
    Some(times[times.len() / 2])
}
