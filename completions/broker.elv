
use builtin;
use str;

set edit:completion:arg-completer[broker] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'broker'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'broker'= {
            cand --backend 'Where long-term keys are stored [env: BROKER_BACKEND]'
            cand --config 'broker''s settings file [env: BROKER_CONFIG] [default: $XDG_CONFIG_HOME/broker/config.toml]'
            cand -v 'Log what broker does to stderr (secrets are always redacted); repeat for more'
            cand --verbose 'Log what broker does to stderr (secrets are always redacted); repeat for more'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand add 'Store an IAM user''s access key for a profile'
            cand list 'List profiles and whether keys are stored for them'
            cand remove 'Delete the stored keys of a profile'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'broker;add'= {
            cand --backend 'Where long-term keys are stored [env: BROKER_BACKEND]'
            cand --config 'broker''s settings file [env: BROKER_CONFIG] [default: $XDG_CONFIG_HOME/broker/config.toml]'
            cand --env 'Take the keys from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY instead of asking'
            cand -v 'Log what broker does to stderr (secrets are always redacted); repeat for more'
            cand --verbose 'Log what broker does to stderr (secrets are always redacted); repeat for more'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'broker;list'= {
            cand --backend 'Where long-term keys are stored [env: BROKER_BACKEND]'
            cand --config 'broker''s settings file [env: BROKER_CONFIG] [default: $XDG_CONFIG_HOME/broker/config.toml]'
            cand --json 'Print a JSON array instead of a table'
            cand -v 'Log what broker does to stderr (secrets are always redacted); repeat for more'
            cand --verbose 'Log what broker does to stderr (secrets are always redacted); repeat for more'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'broker;remove'= {
            cand --backend 'Where long-term keys are stored [env: BROKER_BACKEND]'
            cand --config 'broker''s settings file [env: BROKER_CONFIG] [default: $XDG_CONFIG_HOME/broker/config.toml]'
            cand -f 'Do not ask for confirmation'
            cand --force 'Do not ask for confirmation'
            cand -v 'Log what broker does to stderr (secrets are always redacted); repeat for more'
            cand --verbose 'Log what broker does to stderr (secrets are always redacted); repeat for more'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'broker;completions'= {
            cand --backend 'Where long-term keys are stored [env: BROKER_BACKEND]'
            cand --config 'broker''s settings file [env: BROKER_CONFIG] [default: $XDG_CONFIG_HOME/broker/config.toml]'
            cand -v 'Log what broker does to stderr (secrets are always redacted); repeat for more'
            cand --verbose 'Log what broker does to stderr (secrets are always redacted); repeat for more'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'broker;help'= {
            cand add 'Store an IAM user''s access key for a profile'
            cand list 'List profiles and whether keys are stored for them'
            cand remove 'Delete the stored keys of a profile'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'broker;help;add'= {
        }
        &'broker;help;list'= {
        }
        &'broker;help;remove'= {
        }
        &'broker;help;completions'= {
        }
        &'broker;help;help'= {
        }
    ]
    $completions[$command]
}
