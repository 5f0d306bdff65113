//! Properties of the path mapping: whatever the path, `relative_path` yields plain
//! names only, and `Files` never answers with a byte of a file outside its root.

use std::fs;
use std::path::{Component, Path};

use gateway_kit::file_path::relative_path;
use gateway_kit::Files;
use gateway_spec::testing::TestClient;
use http::StatusCode;
use proptest::prelude::*;

const SECRET: &str = "outside-secret-bytes";

/// Segments that mean something to a path resolver, spelt raw and percent-encoded.
fn segment() -> impl Strategy<Value = String> {
    // Weighted so that short runs of cases still try `../secret.txt` and
    // `up/secret.txt` (a symlink out) in their many spellings.
    prop_oneof![
        4 => prop_oneof![
            Just(".."),
            Just("%2e%2e"),
            Just("%2E."),
            Just(".%2e"),
            Just("%2f..%2f"),
            Just("..%5C.."),
            Just("..%2F..")
        ]
        .prop_map(str::to_owned),
        3 => Just("secret.txt".to_owned()),
        2 => Just("up".to_owned()),
        2 => prop_oneof![
            Just("."),
            Just("%2F"),
            Just("%5C"),
            Just("%00"),
            Just(""),
            Just(".hidden")
        ]
        .prop_map(str::to_owned),
        2 => prop_oneof![Just("public"), Just("file.txt"), Just("sub")].prop_map(str::to_owned),
        1 => "[a-z]{1,3}",
    ]
}

fn target() -> impl Strategy<Value = String> {
    prop::collection::vec(segment(), 0..5).prop_map(|segments| format!("/{}", segments.join("/")))
}

proptest! {
    #[test]
    fn a_mapped_path_is_plain_names_below_the_root(path in prop::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(mapped) = relative_path(&path) {
            for component in mapped.path.components() {
                let Component::Normal(name) = component else {
                    panic!("{component:?} in {:?}", mapped.path);
                };
                prop_assert!(!name.to_string_lossy().starts_with('.'));
            }
            let root = Path::new("/srv/www");
            prop_assert!(root.join(&mapped.path).starts_with(root));
        }
    }

    #[test]
    fn mapped_paths_from_dangerous_segments_stay_plain(target in target()) {
        let decoded = gateway_spec::target::percent_decode(target.as_bytes());
        if let Ok(mapped) = relative_path(&decoded) {
            prop_assert!(mapped.path.components().all(|c| matches!(c, Component::Normal(_))));
            let text = String::from_utf8(decoded).unwrap();
            prop_assert!(!text.split('/').any(|s| s.starts_with('.')), "{}", text);
        }
    }
}

#[test]
fn no_generated_target_reads_a_file_outside_the_root() {
    let dir = tempfile::tempdir().unwrap();
    let public = dir.path().join("public");
    fs::create_dir_all(public.join("sub")).unwrap();
    fs::write(dir.path().join("secret.txt"), SECRET).unwrap();
    fs::write(public.join("file.txt"), "inside").unwrap();
    fs::write(public.join("sub").join("file.txt"), "inside too").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.path(), public.join("up")).unwrap();
    let client = TestClient::new(Files::new(&public).unwrap());

    let mut runner = proptest::test_runner::TestRunner::default();
    runner
        .run(&target(), |target| {
            let response = client.get(&target).send();
            prop_assert!(response.outcome.failure.is_none(), "{}", target);
            prop_assert!(
                !response.text().contains(SECRET),
                "{} leaked the secret",
                target
            );
            prop_assert!(
                [
                    StatusCode::OK,
                    StatusCode::MOVED_PERMANENTLY,
                    StatusCode::NOT_FOUND
                ]
                .contains(&response.status),
                "{} gave {}",
                target,
                response.status
            );
            if response.status == StatusCode::OK {
                prop_assert!(response.text().starts_with("inside"), "{}", target);
            }
            Ok(())
        })
        .unwrap();
    // Targets the generator can produce that must reach a file, so the property
    // above is not met by a Files that refuses everything.
    let mut reachable = vec!["/sub/file.txt", "/file.txt"];
    if cfg!(unix) {
        reachable.push("/up/public/file.txt");
    }
    for target in reachable {
        assert_eq!(client.get(target).send().status, StatusCode::OK, "{target}");
    }
}
