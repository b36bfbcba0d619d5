//! `broker remove`: deletes stored keys and the sessions made from them, after asking.

use crate::common::{transcript, transcripts, TestEnv};
use crate::fixtures::{export_json, store_key};

#[test]
fn remove_off_a_terminal_names_force_and_unknown_profiles_get_suggestions() {
    let env = TestEnv::with_file_backend();
    env.write_aws_config("[profile alice]\n");
    store_key(&env, "alice", "AKIAIOSFODNN7EXAMPLE", "alice-secret");
    let unasked = transcript(&env, &["remove", "alice"]);
    // Still there: the export finds the keys; after `remove -f` it finds none.
    export_json(&env, &["--no-session", "alice"]);
    let forced = transcripts(
        &env,
        &[
            &["remove", "-f", "alcie"],
            &["remove", "-f", "alice"],
            &["export", "--no-session", "alice"],
        ],
    );
    insta::assert_snapshot!(format!("{unasked}\n{forced}"));
}
