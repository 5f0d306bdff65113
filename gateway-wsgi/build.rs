//! Build script: records which CPython the crate is built against (version and
//! prefix, for the start-up check) and sets the rpath of the crate's own tests.

use std::process::Command;

fn main() {
    pyo3_build_config::add_libpython_rpath_link_args();
    let config = pyo3_build_config::get();
    let executable = config
        .executable()
        .map(str::to_owned)
        .unwrap_or_else(|| "python3".to_owned());
    let probe = Command::new(&executable)
        .args([
            "-c",
            "import sys; print('%d.%d.%d' % sys.version_info[:3]); print(sys.base_prefix)",
        ])
        .output();
    let (version, prefix) = match probe {
        Ok(out) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            let mut lines = text.lines();
            (
                lines.next().unwrap_or("").to_owned(),
                lines.next().unwrap_or("").to_owned(),
            )
        }
        _ => (
            format!("{}.{}", config.version().major, config.version().minor),
            String::new(),
        ),
    };
    println!("cargo:rustc-env=GATEWAY_WSGI_BUILT_PYTHON_VERSION={version}");
    println!("cargo:rustc-env=GATEWAY_WSGI_BUILT_PYTHON_PREFIX={prefix}");
    println!("cargo:rerun-if-env-changed=PYO3_PYTHON");
    println!("cargo:rerun-if-env-changed=VIRTUAL_ENV");
}
