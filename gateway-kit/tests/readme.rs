//! The README's "Write an app" section is the doc-tested `doc/write-an-app.md`:
//! this test fails when the two differ, so the README's code always compiles and runs.

const README: &str = include_str!("../../README.md");
const SECTION: &str = include_str!("../doc/write-an-app.md");

#[test]
fn the_readme_write_an_app_section_is_the_doc_tested_copy() {
    let start = README
        .find("## Write an app\n")
        .expect("README.md has a \"## Write an app\" section");
    let rest = &README[start..];
    let end = rest[1..].find("\n## ").map_or(rest.len(), |i| i + 2);
    assert_eq!(
        &rest[..end],
        SECTION,
        "README.md's \"Write an app\" section differs from gateway-kit/doc/write-an-app.md; \
         edit both (the copy is what the doc tests run)"
    );
}
