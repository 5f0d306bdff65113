//! The deployment files in `deploy/` checked by the tools that read them: nginx -t
//! on the site, systemd-analyze verify on the units, and the Kubernetes manifest's
//! stop and probe settings; every flag and variable they use exists.

#[path = "support/nginx.rs"]
mod nginx;
mod support;

use std::path::PathBuf;
use std::process::Command;

use support::exe;

fn deploy(path: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy")).join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(deploy(path)).unwrap_or_else(|e| panic!("deploy/{path}: {e}"))
}

#[test]
fn the_nginx_site_passes_nginx_t() {
    let prefix = tempfile::tempdir().unwrap();
    let site = read("nginx/gateway-serve.conf");
    let config = nginx::main_config(prefix.path(), &site);
    let (ok, output) = nginx::test_config(prefix.path(), &config);
    assert!(
        ok,
        "nginx -t refused deploy/nginx/gateway-serve.conf:\n{output}"
    );
    // The settings the site is for.
    for needed in [
        "keepalive 32",
        "proxy_http_version 1.1",
        "X-Forwarded-For",
        "unix:/run/gateway-serve/",
    ] {
        assert!(site.contains(needed), "the site lost {needed:?}");
    }
}

#[test]
fn the_systemd_units_pass_systemd_analyze_verify() {
    let analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("systemd-analyze is needed for this test: apt-get install systemd (.ci/run does)");
    let dir = tempfile::tempdir().unwrap();
    for unit in ["gateway-serve.socket", "gateway-serve.service"] {
        // The unit names its installed path; verify needs a binary that exists.
        let text = read(&format!("systemd/{unit}"))
            .replace("/usr/local/bin/gateway-serve", exe().to_str().unwrap());
        std::fs::write(dir.path().join(unit), text).unwrap();
    }
    let output = Command::new(analyze)
        .arg("verify")
        .args(["gateway-serve.socket", "gateway-serve.service"].map(|u| dir.path().join(u)))
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // verify exits 0 on a value it ignores, and says so: nothing may be said.
    assert!(
        output.status.success() && said.trim().is_empty(),
        "systemd-analyze verify:\n{said}"
    );
    let service = read("systemd/gateway-serve.service");
    assert!(service.contains("Type=notify"), "{service}");
    assert!(
        service.contains("ExecReload=/bin/kill -s HUP $MAINPID"),
        "{service}"
    );
}

/// The number after `key:` in a YAML line.
fn yaml_number(text: &str, key: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.trim().strip_prefix(key)?.trim().strip_prefix(':'))
        .and_then(|v| v.trim().parse().ok())
}

#[test]
fn the_kubernetes_grace_period_outlasts_the_prestop_and_the_graceful_timeout() {
    let manifest = read("kubernetes/deployment.yaml");
    let grace = yaml_number(&manifest, "terminationGracePeriodSeconds").expect("a grace period");
    let graceful = manifest
        .split("GATEWAY_GRACEFUL_TIMEOUT")
        .nth(1)
        .and_then(|rest| rest.split("value:").nth(1))
        .and_then(|v| {
            v.trim()
                .trim_start_matches('"')
                .split('s')
                .next()?
                .parse::<u64>()
                .ok()
        })
        .expect("GATEWAY_GRACEFUL_TIMEOUT in seconds");
    let pre_stop = manifest
        .split_once("preStop:")
        .and_then(|(_, rest)| rest.split("\"sleep\", \"").nth(1))
        .and_then(|v| v.split('"').next()?.parse::<u64>().ok())
        .expect("a preStop sleep");
    assert!(
        grace > pre_stop + graceful,
        "grace {grace} s <= preStop {pre_stop} s + graceful {graceful} s"
    );
    for needed in ["readinessProbe:", "livenessProbe:", "preStop:"] {
        assert!(manifest.contains(needed), "the manifest lost {needed}");
    }
}

#[test]
fn every_flag_and_variable_the_deploy_files_use_exists() {
    let help = Command::new(exe()).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    let files = [
        "systemd/gateway-serve.service",
        "kubernetes/deployment.yaml",
    ];
    let mut checked = 0;
    for file in files {
        // What the files run, not what their comments say of other tools.
        let text: String = read(file)
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n");
        let words = text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        for word in words {
            let used = (word.starts_with("--")
                && word[2..].starts_with(|c: char| c.is_ascii_lowercase()))
                || word.starts_with("GATEWAY_");
            if used {
                checked += 1;
                assert!(
                    help.contains(word),
                    "deploy/{file} uses {word}, which --help does not know"
                );
            }
        }
    }
    assert!(checked >= 6, "only {checked} flags and variables found");
}
