//! Replays the inputs the fuzzers found (tests/fuzz_regressions/TARGET/*, see fuzz/README.md)
//! through the same properties the fuzz targets check, so a fixed finding stays fixed.

use std::path::PathBuf;

use broker::credentials::Credentials;
use broker::format::{render, Format};
use broker::profiles::AwsProfiles;

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz_regressions")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.sort();
    files
        .into_iter()
        .map(|p| (p.clone(), std::fs::read(&p).unwrap()))
        .collect()
}

#[test]
fn duration_findings() {
    for (path, data) in inputs("duration") {
        let text = String::from_utf8_lossy(&data);
        match broker::duration::parse(&text) {
            Ok(d) => assert_eq!(broker::duration::parse(&broker::duration::format(d)), Ok(d)),
            Err(e) => {
                // As broker prints it.
                let shown = broker::error::one_line(&e.to_string());
                assert!(
                    !shown.chars().any(broker::sanitize::is_unsafe),
                    "{}: {shown}",
                    path.display()
                )
            }
        }
    }
}

/// Inputs are fields split by 0xFF: profile, access key id, secret, token, region.
#[test]
fn export_format_findings() {
    let found = inputs("export_formats");
    assert!(!found.is_empty(), "the regression inputs are committed");
    for (path, data) in found {
        let fields: Vec<String> = data
            .split(|&b| b == 0xFF)
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect();
        let get = |i: usize| fields.get(i).cloned();
        let creds = Credentials {
            access_key_id: get(1).unwrap_or_default(),
            secret_access_key: get(2).unwrap_or_default().into(),
            session_token: get(3).map(Into::into),
            expiration: None,
        };
        let profile = get(0).unwrap_or_default();
        let region = get(4);
        // ini either refuses the values or writes what the AWS parser reads back unchanged.
        if let Ok(ini) = render(Format::Ini, &profile, &creds, region.as_deref()) {
            let aws = AwsProfiles::from_texts("", &ini).unwrap();
            let secret = aws.get(&profile, "aws_secret_access_key");
            assert_eq!(secret, get(2).as_deref(), "{}: {ini:?}", path.display());
        }
        for format in [Format::Sh, Format::Fish, Format::Powershell, Format::Json] {
            render(format, &profile, &creds, region.as_deref())
                .expect("shell formats quote anything");
        }
    }
}
