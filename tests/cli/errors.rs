//! The common error messages, pinned whole: what each says, its hint and its exit status.
//! Fast: no STS, no D-Bus (the file vault), so a change of wording is a quick loop
//! (`cargo test --test cli snapshot`).

use crate::common::{transcript, transcripts, TestEnv};

const ROLE: &str = "arn:aws:iam::123456789012:role";

#[test]
fn profile_errors_snapshot() {
    let env = TestEnv::with_file_backend();
    env.write_aws_config(&format!(
        "[profile prod-admin]\nrole_arn = {ROLE}/admin\nsource_profile = prod\n\
         [profile prod-read]\nrole_arn = {ROLE}/read\nsource_profile = prod\n\
         [profile prod]\n\
         [profile orphan]\nrole_arn = {ROLE}/x\nsource_profile = ghost\n\
         [profile loop-a]\nrole_arn = {ROLE}/a\nsource_profile = loop-b\n\
         [profile loop-b]\nrole_arn = {ROLE}/b\nsource_profile = loop-a\n\
         [profile badarn]\nrole_arn = arn:aws:iam::123:role/x\n\
         [profile corp]\nsso_session = corpo\nsso_account_id = 123456789012\nsso_role_name = Admin\n\
         [sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n\
         [profile hub]\nrole_arn = {ROLE}/hub\nsource_profile = corp\n\
         [profile layered]\ninclude_profile = prod-base\n\
         [profile ec2]\nrole_arn = {ROLE}/ec2\ncredential_source = Ec2InstanceMetadata\n"
    ));
    insta::assert_snapshot!(transcripts(
        &env,
        &[
            &["export", "prod-amdin"],
            &["export", "prod"],
            &["export", "nothing-like-it"],
            &["export", "orphan"],
            &["export", "loop-a"],
            &["export", "badarn"],
            &["export", "hub"],
            &["export", "layered"],
            &["export", "ec2"],
            &["clear", "prd"],
        ]
    ));
}

#[test]
fn no_profile_named_off_a_terminal_snapshot() {
    let env = TestEnv::with_file_backend();
    let names = ["web", "api", "db", "ops", "audit", "billing", "logs"];
    env.write_aws_config(
        &names
            .iter()
            .map(|n| format!("[profile {n}]\n"))
            .collect::<String>(),
    );
    let empty = TestEnv::with_file_backend();
    insta::assert_snapshot!(format!(
        "{}\n{}",
        transcript(&env, &["export"]),
        transcript(&empty, &["exec"])
    ));
}

#[test]
fn key_errors_snapshot() {
    let env = TestEnv::with_file_backend();
    env.write_aws_config("[profile alice]\n[profile bob]\n");
    std::fs::write(
        env.home().join(".aws/credentials"),
        "[bob]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = x\n",
    )
    .unwrap();
    insta::assert_snapshot!(transcripts(
        &env,
        &[
            &["export", "alice"],
            &["export", "bob"],
            &["add", "alice"],
            &["import", "bob"],
            &["import", "carol"],
        ]
    ));
}

#[test]
fn duration_errors_snapshot() {
    let env = TestEnv::with_file_backend();
    env.write_aws_config(&format!(
        "[profile user]\n\
         [profile role]\nrole_arn = {ROLE}/r\nsource_profile = user\n\
         [profile long]\nrole_arn = {ROLE}/l\nsource_profile = user\nduration_seconds = 86400\n"
    ));
    let settings = TestEnv::with_file_backend();
    settings.write_aws_config("[profile user]\n");
    settings.write_broker_config("[session]\nmin_ttl = \"900\"\n");
    insta::assert_snapshot!(format!(
        "{}\n{}",
        transcripts(
            &env,
            &[
                &["export", "-d", "3600", "role"],
                &["export", "--duration", "soon", "role"],
                &["export", "--duration=10m", "role"],
                &["export", "-d", "37h", "user"],
                &["export", "-d", "13h", "role"],
                &["export", "long"],
                &["history", "--since", "7"],
            ]
        ),
        transcript(&settings, &["export", "user"])
    ));
}

#[test]
fn colours_follow_no_color_and_clicolor_force_snapshot() {
    let env = TestEnv::with_file_backend();
    env.write_aws_config("[profile prod]\n");
    let stderr = |vars: &[(&str, &str)]| {
        let mut cmd = env.broker();
        cmd.args(["export", "prd"]);
        for (k, v) in vars {
            cmd.env(k, v);
        }
        format!("{:?}", crate::common::stderr_of(&cmd.output().unwrap()))
    };
    let table = {
        let out = env
            .broker()
            .args(["list"])
            .env("CLICOLOR_FORCE", "1")
            .output()
            .unwrap();
        format!("{:?}", crate::common::stdout_of(&out))
    };
    insta::assert_snapshot!(format!(
        "off a terminal: {}\nCLICOLOR_FORCE=1: {}\nCLICOLOR_FORCE=1 NO_COLOR=1: {}\nlist, CLICOLOR_FORCE=1: {}\n",
        stderr(&[]),
        stderr(&[("CLICOLOR_FORCE", "1")]),
        stderr(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]),
        table,
    ));
}
