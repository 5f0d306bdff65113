//! Build script: with the `wsgi` feature, points the binaries and tests at the
//! libpython they were linked against (its rpath). Nothing without the feature.

fn main() {
    #[cfg(feature = "wsgi")]
    pyo3_build_config::add_libpython_rpath_link_args();
}
