//! Every help page, pinned whole: each command's own options first, the global ones once
//! after them, examples at the end, and the backends listed only in `broker --help`.

use clap::CommandFactory;

use crate::common::{stderr_of, stdout_of, TestEnv};

fn help(args: &[&str]) -> String {
    let out = TestEnv::new().broker().args(args).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    stdout_of(&out)
}

#[test]
fn every_help_page_snapshot() {
    insta::assert_snapshot!("help", help(&["--help"]));
    let cli = broker::cli::Cli::command();
    for sub in cli.get_subcommands() {
        let name = sub.get_name();
        let page = help(&[name, "--help"]);
        assert!(page.contains("Examples:\n"), "{name} --help has no example");
        assert!(
            !page.contains("secret-service"),
            "{name} --help lists the backends"
        );
        let own = page.find("\nOptions:\n").unwrap();
        let global = page.find("\nGlobal options:\n").unwrap();
        assert!(own < global, "{name}: its own options come first");
        assert_eq!(page.matches("--backend <BACKEND>").count(), 1, "{name}");
        insta::assert_snapshot!(format!("help_{name}"), page);
    }
}
