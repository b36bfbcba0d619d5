
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'broker' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'broker'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'broker' {
            [CompletionResult]::new('--backend', '--backend', [CompletionResultType]::ParameterName, 'Where long-term keys are stored [env: BROKER_BACKEND]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'broker''s settings file [env: BROKER_CONFIG] [default: $XDG_CONFIG_HOME/broker/config.toml]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what broker does to stderr (secrets are always redacted); repeat for more')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what broker does to stderr (secrets are always redacted); repeat for more')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Store an IAM user''s access key for a profile')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List profiles, their stored keys and cached sessions')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Delete the stored keys and cached sessions of a profile')
            [CompletionResult]::new('rotate', 'rotate', [CompletionResultType]::ParameterValue, 'Replace a profile''s access key with a new one')
            [CompletionResult]::new('exec', 'exec', [CompletionResultType]::ParameterValue, 'Run a command with credentials in its environment')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Print credentials for a profile')
            [CompletionResult]::new('login', 'login', [CompletionResultType]::ParameterValue, 'Open the AWS console signed in as a profile')
            [CompletionResult]::new('clear', 'clear', [CompletionResultType]::ParameterValue, 'Drop cached sessions')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'Show the audit log of issued and refused credentials')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'broker;add' {
            [CompletionResult]::new('--backend', '--backend', [CompletionResultType]::ParameterName, 'Where long-term keys are stored [env: BROKER_BACKEND]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'broker''s settings file [env: BROKER_CONFIG] [default: $XDG_CONFIG_HOME/broker/config.toml]')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Take the keys from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY instead of asking')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what broker does to stderr (secrets are always redacted); repeat for more')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what broker does to stderr (secrets are always redacted); repeat for more')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'broker;list' {
            [CompletionResult]::new('--backend', '--backend', [CompletionResultType]::ParameterName, 'Where long-term keys are stored [env: BROKER_BACKEND]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'broker''s settings file [env: BROKER_CONFIG] [default: $XDG_CONFIG_HOME/broker/config.toml]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print a JSON array instead of a table')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what broker does to stderr (secrets are always redacted); repeat for more')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what broker does to stderr (secrets are always redacted); repeat for more')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'broker;remove' {
            [CompletionResult]::new('--backend', '--backend', [CompletionResultType]::ParameterName, 'Where long-term keys are stored [env: BROKER_BACKEND]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'broker''s settings file [env: BROKER_CONFIG] [default: $XDG_CONFIG_HOME/broker/config.toml]')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what broker does to stderr (secrets are always redacted); repeat for more')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what broker does to stderr (secrets are always redacted); repeat for more')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'broker;rotate' {
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'The current code of the profile''s MFA device, instead of asking for it')
            [CompletionResult]::new('--mfa-token', '--mfa-token', [CompletionResultType]::ParameterName, 'The current code of the profile''s MFA device, instead of asking for it')
            [CompletionResult]::new('--backend', '--backend', [CompletionResultType]::ParameterName, 'Where long-term keys are stored [env: BROKER_BACKEND]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'broker''s settings file [env: BROKER_CONFIG] [default: $XDG_CONFIG_HOME/broker/config.toml]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what broker does to stderr (secrets are always redacted); repeat for more')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what broker does to stderr (secrets are always redacted); repeat for more')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'broker;exec' {
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'How long the credentials last, like 15m, 1h or 3600s (AWS allows 15m to 12h for a role, to 36h for a session token; a role assumed from another role gets at most 1h)')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'How long the credentials last, like 15m, 1h or 3600s (AWS allows 15m to 12h for a role, to 36h for a session token; a role assumed from another role gets at most 1h)')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'The current code of the profile''s MFA device, instead of asking for it')
            [CompletionResult]::new('--mfa-token', '--mfa-token', [CompletionResultType]::ParameterName, 'The current code of the profile''s MFA device, instead of asking for it')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'The region for STS and for the credentials'' environment [default: the profile''s region, else $AWS_REGION, else $AWS_DEFAULT_REGION, else us-east-1]')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why you need these credentials; recorded in the audit log (required by profiles with require_reason or break_glass, and sent as the BrokerReason tag with tag_reason)')
            [CompletionResult]::new('--backend', '--backend', [CompletionResultType]::ParameterName, 'Where long-term keys are stored [env: BROKER_BACKEND]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'broker''s settings file [env: BROKER_CONFIG] [default: $XDG_CONFIG_HOME/broker/config.toml]')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Serve credentials from a local endpoint that refreshes them (the ECS container credentials protocol) instead of putting keys in the environment; for long jobs')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Skip GetSessionToken: hand out the stored keys themselves, or assume the first role with them directly')
            [CompletionResult]::new('--no-session', '--no-session', [CompletionResultType]::ParameterName, 'Skip GetSessionToken: hand out the stored keys themselves, or assume the first role with them directly')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Skip the typed confirmation of a break-glass profile (not its reason)')
            [CompletionResult]::new('--refresh', '--refresh', [CompletionResultType]::ParameterName, 'Ignore cached credentials for this call, and replace them')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what broker does to stderr (secrets are always redacted); repeat for more')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what broker does to stderr (secrets are always redacted); repeat for more')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'broker;export' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'The output format')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'The output format')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'How long the credentials last, like 15m, 1h or 3600s (AWS allows 15m to 12h for a role, to 36h for a session token; a role assumed from another role gets at most 1h)')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'How long the credentials last, like 15m, 1h or 3600s (AWS allows 15m to 12h for a role, to 36h for a session token; a role assumed from another role gets at most 1h)')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'The current code of the profile''s MFA device, instead of asking for it')
            [CompletionResult]::new('--mfa-token', '--mfa-token', [CompletionResultType]::ParameterName, 'The current code of the profile''s MFA device, instead of asking for it')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'The region for STS and for the credentials'' environment [default: the profile''s region, else $AWS_REGION, else $AWS_DEFAULT_REGION, else us-east-1]')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why you need these credentials; recorded in the audit log (required by profiles with require_reason or break_glass, and sent as the BrokerReason tag with tag_reason)')
            [CompletionResult]::new('--backend', '--backend', [CompletionResultType]::ParameterName, 'Where long-term keys are stored [env: BROKER_BACKEND]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'broker''s settings file [env: BROKER_CONFIG] [default: $XDG_CONFIG_HOME/broker/config.toml]')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Skip GetSessionToken: hand out the stored keys themselves, or assume the first role with them directly')
            [CompletionResult]::new('--no-session', '--no-session', [CompletionResultType]::ParameterName, 'Skip GetSessionToken: hand out the stored keys themselves, or assume the first role with them directly')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Skip the typed confirmation of a break-glass profile (not its reason)')
            [CompletionResult]::new('--refresh', '--refresh', [CompletionResultType]::ParameterName, 'Ignore cached credentials for this call, and replace them')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what broker does to stderr (secrets are always redacted); repeat for more')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what broker does to stderr (secrets are always redacted); repeat for more')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'broker;login' {
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'How long the credentials last, like 15m, 1h or 3600s (AWS allows 15m to 12h for a role, to 36h for a session token; a role assumed from another role gets at most 1h)')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'How long the credentials last, like 15m, 1h or 3600s (AWS allows 15m to 12h for a role, to 36h for a session token; a role assumed from another role gets at most 1h)')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'The current code of the profile''s MFA device, instead of asking for it')
            [CompletionResult]::new('--mfa-token', '--mfa-token', [CompletionResultType]::ParameterName, 'The current code of the profile''s MFA device, instead of asking for it')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'The region for STS and for the credentials'' environment [default: the profile''s region, else $AWS_REGION, else $AWS_DEFAULT_REGION, else us-east-1]')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why you need these credentials; recorded in the audit log (required by profiles with require_reason or break_glass, and sent as the BrokerReason tag with tag_reason)')
            [CompletionResult]::new('--backend', '--backend', [CompletionResultType]::ParameterName, 'Where long-term keys are stored [env: BROKER_BACKEND]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'broker''s settings file [env: BROKER_CONFIG] [default: $XDG_CONFIG_HOME/broker/config.toml]')
            [CompletionResult]::new('--stdout', '--stdout', [CompletionResultType]::ParameterName, 'Print the sign-in URL instead of opening a browser (it signs in whoever opens it)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Skip GetSessionToken: hand out the stored keys themselves, or assume the first role with them directly')
            [CompletionResult]::new('--no-session', '--no-session', [CompletionResultType]::ParameterName, 'Skip GetSessionToken: hand out the stored keys themselves, or assume the first role with them directly')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Skip the typed confirmation of a break-glass profile (not its reason)')
            [CompletionResult]::new('--refresh', '--refresh', [CompletionResultType]::ParameterName, 'Ignore cached credentials for this call, and replace them')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what broker does to stderr (secrets are always redacted); repeat for more')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what broker does to stderr (secrets are always redacted); repeat for more')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'broker;clear' {
            [CompletionResult]::new('--backend', '--backend', [CompletionResultType]::ParameterName, 'Where long-term keys are stored [env: BROKER_BACKEND]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'broker''s settings file [env: BROKER_CONFIG] [default: $XDG_CONFIG_HOME/broker/config.toml]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what broker does to stderr (secrets are always redacted); repeat for more')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what broker does to stderr (secrets are always redacted); repeat for more')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'broker;history' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Only this profile')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only records newer than this, like 1h, 30m or 7d')
            [CompletionResult]::new('--backend', '--backend', [CompletionResultType]::ParameterName, 'Where long-term keys are stored [env: BROKER_BACKEND]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'broker''s settings file [env: BROKER_CONFIG] [default: $XDG_CONFIG_HOME/broker/config.toml]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'One JSON object per line, as stored')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what broker does to stderr (secrets are always redacted); repeat for more')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what broker does to stderr (secrets are always redacted); repeat for more')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'broker;completions' {
            [CompletionResult]::new('--backend', '--backend', [CompletionResultType]::ParameterName, 'Where long-term keys are stored [env: BROKER_BACKEND]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'broker''s settings file [env: BROKER_CONFIG] [default: $XDG_CONFIG_HOME/broker/config.toml]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log what broker does to stderr (secrets are always redacted); repeat for more')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log what broker does to stderr (secrets are always redacted); repeat for more')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'broker;help' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Store an IAM user''s access key for a profile')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List profiles, their stored keys and cached sessions')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Delete the stored keys and cached sessions of a profile')
            [CompletionResult]::new('rotate', 'rotate', [CompletionResultType]::ParameterValue, 'Replace a profile''s access key with a new one')
            [CompletionResult]::new('exec', 'exec', [CompletionResultType]::ParameterValue, 'Run a command with credentials in its environment')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Print credentials for a profile')
            [CompletionResult]::new('login', 'login', [CompletionResultType]::ParameterValue, 'Open the AWS console signed in as a profile')
            [CompletionResult]::new('clear', 'clear', [CompletionResultType]::ParameterValue, 'Drop cached sessions')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'Show the audit log of issued and refused credentials')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'broker;help;add' {
            break
        }
        'broker;help;list' {
            break
        }
        'broker;help;remove' {
            break
        }
        'broker;help;rotate' {
            break
        }
        'broker;help;exec' {
            break
        }
        'broker;help;export' {
            break
        }
        'broker;help;login' {
            break
        }
        'broker;help;clear' {
            break
        }
        'broker;help;history' {
            break
        }
        'broker;help;completions' {
            break
        }
        'broker;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
