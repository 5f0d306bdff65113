//! Writes the seed corpora: each `fixtures/requests` case's raw bytes for `request_head`, chunked bodies for `chunked`.
//! Run through `seed.sh`; it only writes files under the corpus directory given (default `corpus/`).

use std::fs;
use std::path::PathBuf;

use reference_server::http1::{parse_request_head, BodyFraming, HeadLimits, Parsed};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus"));
    let heads = out.join("request_head");
    let bodies = out.join("chunked");
    fs::create_dir_all(&heads)?;
    fs::create_dir_all(&bodies)?;

    let cases = fixtures::corpus::load_dir(&fixtures::corpus::corpus_dir())?;
    let mut chunked = 0;
    for case in &cases {
        let file_name = case.name.replace('/', "__");
        fs::write(heads.join(&file_name), &case.request)?;
        if let Some(body) = chunked_body(&case.request) {
            fs::write(bodies.join(&file_name), body)?;
            chunked += 1;
        }
    }
    println!(
        "wrote {} request heads to {} and {chunked} chunked bodies to {}",
        cases.len(),
        heads.display(),
        bodies.display()
    );
    Ok(())
}

/// The bytes after the head when the head declares a chunked body. A head the parser
/// refuses (a smuggling case, say) still gives its body if it names `chunked`.
fn chunked_body(request: &[u8]) -> Option<&[u8]> {
    match parse_request_head(request, &HeadLimits::default()) {
        Ok(Parsed::Complete { head, len }) => {
            (head.framing == BodyFraming::Chunked).then(|| &request[len..])
        }
        _ => {
            let end = request.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
            let head = String::from_utf8_lossy(&request[..end]).to_ascii_lowercase();
            head.contains("chunked").then(|| &request[end..])
        }
    }
}
