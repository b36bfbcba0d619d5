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
    let mut pages: Vec<Vec<&str>> = Vec::new();
    for sub in cli.get_subcommands().filter(|s| !s.is_hide_set()) {
        pages.push(vec![sub.get_name()]);
        for nested in sub.get_subcommands() {
            pages.push(vec![sub.get_name(), nested.get_name()]);
        }
    }
    for words in pages {
        let name = words.join(" ");
        let mut args = words.clone();
        args.push("--help");
        let page = help(&args);
        assert!(page.contains("Examples:\n"), "{name} --help has no example");
        assert!(
            !page.contains("secret-service"),
            "{name} --help lists the backends"
        );
        let global = page.find("\nGlobal options:\n").unwrap();
        if let Some(own) = page.find("\nOptions:\n") {
            assert!(own < global, "{name}: its own options come first");
        }
        assert_eq!(page.matches("--backend <BACKEND>").count(), 1, "{name}");
        insta::assert_snapshot!(format!("help_{}", words.join("_")), page);
    }
}

#[test]
fn a_group_command_alone_lists_its_commands() {
    // `broker`, `broker sso`, `broker debug`: no misuse, so the listing and exit 0.
    for (args, command) in [
        (&[][..], "broker [OPTIONS] <COMMAND>"),
        (&["sso"][..], "broker sso [OPTIONS] <COMMAND>"),
        (&["debug"][..], "broker debug [OPTIONS] <COMMAND>"),
    ] {
        let listing = help(args);
        assert!(
            listing.contains(&format!("Usage: {command}")) && listing.contains("Commands:"),
            "{args:?}: {listing}"
        );
    }
}
