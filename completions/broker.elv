
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
            cand list 'List profiles, their stored keys and cached sessions'
            cand remove 'Delete the stored keys and cached sessions of a profile'
            cand rotate 'Replace a profile''s access key with a new one'
            cand exec 'Run a command with credentials in its environment'
            cand export 'Print credentials for a profile'
            cand login 'Open the AWS console signed in as a profile'
            cand clear 'Drop cached sessions'
            cand history 'Show the audit log of issued and refused credentials'
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
        &'broker;rotate'= {
            cand -t 'The current code of the profile''s MFA device, instead of asking for it'
            cand --mfa-token 'The current code of the profile''s MFA device, instead of asking for it'
            cand --backend 'Where long-term keys are stored [env: BROKER_BACKEND]'
            cand --config 'broker''s settings file [env: BROKER_CONFIG] [default: $XDG_CONFIG_HOME/broker/config.toml]'
            cand -v 'Log what broker does to stderr (secrets are always redacted); repeat for more'
            cand --verbose 'Log what broker does to stderr (secrets are always redacted); repeat for more'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'broker;exec'= {
            cand -d 'How long the credentials last, like 15m, 1h or 3600s (AWS allows 15m to 12h for a role, to 36h for a session token; a role assumed from another role gets at most 1h)'
            cand --duration 'How long the credentials last, like 15m, 1h or 3600s (AWS allows 15m to 12h for a role, to 36h for a session token; a role assumed from another role gets at most 1h)'
            cand -t 'The current code of the profile''s MFA device, instead of asking for it'
            cand --mfa-token 'The current code of the profile''s MFA device, instead of asking for it'
            cand --region 'The region for STS and for the credentials'' environment [default: the profile''s region, else $AWS_REGION, else $AWS_DEFAULT_REGION, else us-east-1]'
            cand --reason 'Why you need these credentials; recorded in the audit log (required by profiles with require_reason or break_glass, and sent as the BrokerReason tag with tag_reason)'
            cand --backend 'Where long-term keys are stored [env: BROKER_BACKEND]'
            cand --config 'broker''s settings file [env: BROKER_CONFIG] [default: $XDG_CONFIG_HOME/broker/config.toml]'
            cand --server 'Serve credentials from a local endpoint that refreshes them (the ECS container credentials protocol) instead of putting keys in the environment; for long jobs'
            cand -n 'Skip GetSessionToken: hand out the stored keys themselves, or assume the first role with them directly'
            cand --no-session 'Skip GetSessionToken: hand out the stored keys themselves, or assume the first role with them directly'
            cand --yes 'Skip the typed confirmation of a break-glass profile (not its reason)'
            cand --refresh 'Ignore cached credentials for this call, and replace them'
            cand -v 'Log what broker does to stderr (secrets are always redacted); repeat for more'
            cand --verbose 'Log what broker does to stderr (secrets are always redacted); repeat for more'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'broker;export'= {
            cand -f 'The output format'
            cand --format 'The output format'
            cand -d 'How long the credentials last, like 15m, 1h or 3600s (AWS allows 15m to 12h for a role, to 36h for a session token; a role assumed from another role gets at most 1h)'
            cand --duration 'How long the credentials last, like 15m, 1h or 3600s (AWS allows 15m to 12h for a role, to 36h for a session token; a role assumed from another role gets at most 1h)'
            cand -t 'The current code of the profile''s MFA device, instead of asking for it'
            cand --mfa-token 'The current code of the profile''s MFA device, instead of asking for it'
            cand --region 'The region for STS and for the credentials'' environment [default: the profile''s region, else $AWS_REGION, else $AWS_DEFAULT_REGION, else us-east-1]'
            cand --reason 'Why you need these credentials; recorded in the audit log (required by profiles with require_reason or break_glass, and sent as the BrokerReason tag with tag_reason)'
            cand --backend 'Where long-term keys are stored [env: BROKER_BACKEND]'
            cand --config 'broker''s settings file [env: BROKER_CONFIG] [default: $XDG_CONFIG_HOME/broker/config.toml]'
            cand -n 'Skip GetSessionToken: hand out the stored keys themselves, or assume the first role with them directly'
            cand --no-session 'Skip GetSessionToken: hand out the stored keys themselves, or assume the first role with them directly'
            cand --yes 'Skip the typed confirmation of a break-glass profile (not its reason)'
            cand --refresh 'Ignore cached credentials for this call, and replace them'
            cand -v 'Log what broker does to stderr (secrets are always redacted); repeat for more'
            cand --verbose 'Log what broker does to stderr (secrets are always redacted); repeat for more'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'broker;login'= {
            cand -d 'How long the credentials last, like 15m, 1h or 3600s (AWS allows 15m to 12h for a role, to 36h for a session token; a role assumed from another role gets at most 1h)'
            cand --duration 'How long the credentials last, like 15m, 1h or 3600s (AWS allows 15m to 12h for a role, to 36h for a session token; a role assumed from another role gets at most 1h)'
            cand -t 'The current code of the profile''s MFA device, instead of asking for it'
            cand --mfa-token 'The current code of the profile''s MFA device, instead of asking for it'
            cand --region 'The region for STS and for the credentials'' environment [default: the profile''s region, else $AWS_REGION, else $AWS_DEFAULT_REGION, else us-east-1]'
            cand --reason 'Why you need these credentials; recorded in the audit log (required by profiles with require_reason or break_glass, and sent as the BrokerReason tag with tag_reason)'
            cand --backend 'Where long-term keys are stored [env: BROKER_BACKEND]'
            cand --config 'broker''s settings file [env: BROKER_CONFIG] [default: $XDG_CONFIG_HOME/broker/config.toml]'
            cand --stdout 'Print the sign-in URL instead of opening a browser (it signs in whoever opens it)'
            cand -n 'Skip GetSessionToken: hand out the stored keys themselves, or assume the first role with them directly'
            cand --no-session 'Skip GetSessionToken: hand out the stored keys themselves, or assume the first role with them directly'
            cand --yes 'Skip the typed confirmation of a break-glass profile (not its reason)'
            cand --refresh 'Ignore cached credentials for this call, and replace them'
            cand -v 'Log what broker does to stderr (secrets are always redacted); repeat for more'
            cand --verbose 'Log what broker does to stderr (secrets are always redacted); repeat for more'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'broker;clear'= {
            cand --backend 'Where long-term keys are stored [env: BROKER_BACKEND]'
            cand --config 'broker''s settings file [env: BROKER_CONFIG] [default: $XDG_CONFIG_HOME/broker/config.toml]'
            cand -v 'Log what broker does to stderr (secrets are always redacted); repeat for more'
            cand --verbose 'Log what broker does to stderr (secrets are always redacted); repeat for more'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'broker;history'= {
            cand --profile 'Only this profile'
            cand --since 'Only records newer than this, like 1h, 30m or 7d'
            cand --backend 'Where long-term keys are stored [env: BROKER_BACKEND]'
            cand --config 'broker''s settings file [env: BROKER_CONFIG] [default: $XDG_CONFIG_HOME/broker/config.toml]'
            cand --json 'One JSON object per line, as stored'
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
            cand list 'List profiles, their stored keys and cached sessions'
            cand remove 'Delete the stored keys and cached sessions of a profile'
            cand rotate 'Replace a profile''s access key with a new one'
            cand exec 'Run a command with credentials in its environment'
            cand export 'Print credentials for a profile'
            cand login 'Open the AWS console signed in as a profile'
            cand clear 'Drop cached sessions'
            cand history 'Show the audit log of issued and refused credentials'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'broker;help;add'= {
        }
        &'broker;help;list'= {
        }
        &'broker;help;remove'= {
        }
        &'broker;help;rotate'= {
        }
        &'broker;help;exec'= {
        }
        &'broker;help;export'= {
        }
        &'broker;help;login'= {
        }
        &'broker;help;clear'= {
        }
        &'broker;help;history'= {
        }
        &'broker;help;completions'= {
        }
        &'broker;help;help'= {
        }
    ]
    $completions[$command]
}
